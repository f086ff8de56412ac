"""Locating predicted argument strings in the sentence, and the head rule used for matching.

The original LeTI verifier reduced every span (gold and predicted) to its head word with spaCy
``en_core_web_sm`` behind a whitespace tokenizer (``find_head``: start at the span's first token
and climb the dependency tree while the head stays inside the span). That pipeline cannot be
installed here: ``en_core_web_sm`` is not published on PyPI by spaCy (only unofficial
third-party re-uploads exist, which we do not trust as a dependency), and models cannot be
downloaded from the spaCy/GitHub release hosts. We therefore use a deterministic, documented
**head rule** (`head_index`) that needs no model. It is applied identically to gold spans and to
predicted spans, so an exact span always matches itself, and two different spans match when
they reduce to the same head token (e.g. ``the laboratory`` / ``a state public health
laboratory`` / ``of a state public health laboratory``).

Head rule (UD-flavoured, for English noun/prepositional phrases):

1. Drop leading function words while more than one token is left: determiners (``a``, ``an``,
   ``the``; the original's ``clean_span`` dropped these from gold spans) and prepositions
   (``of``, ``in``, ...). Universal Dependencies makes the object of a preposition the head of a
   PP, which is what makes ``of the money`` and ``the money`` match. (spaCy's ClearNLP-style
   parse would instead return the preposition itself for a PP-initial span; ACE05 entity
   mentions never start with one, but 17% of GENEVA's gold arguments do.)
2. Cut the remaining span at its first *post-modifier boundary* after position 0: a
   preposition, a coordinating conjunction (the first conjunct heads a coordination, as in
   spaCy/UD), a relativizer or complementizer (``who``, ``which``, ``that``, ...), or
   punctuation (``,`` ``;`` ``(`` ``--`` ...).
3. The head is the last token of what is left that is not punctuation or a possessive marker
   (English NPs are head-final: ``state public health laboratory`` -> ``laboratory``).
   A single token is its own head.

Known differences from spaCy (they affect how lenient matching is, not its consistency):
participial post-modifiers (``the money sought`` -> ``sought``), clauses (``he would resign``
-> ``resign`` as spaCy, but ``to leave the country`` -> ``country``) and quantities
(``$ 89 million`` -> ``million``).

Locating a predicted string follows the original ``find_arg_span``: split on whitespace, find
the token sequence in the sentence nearest to the trigger; if absent, retry lowercased with
hyphenated words split (``Anne-Marie`` -> ``anne - marie``). Two additions of ours, both
documented: ``**`` trigger markers copied from the prompt are removed, and a last fallback
matches with all whitespace removed (``$89 million`` vs tokens ``$ 89 million``).
`locate_all` returns every occurrence (nearest first); the verifier uses it to resolve strings
that occur more than once (see `leti.execution.eae_verify`).
"""
from __future__ import annotations

DETERMINERS = frozenset({"a", "an", "the"})
PREPOSITIONS = frozenset("""
about above across after against along amid amidst among amongst around as at before behind
below beneath beside besides between beyond by despite down during except for from in inside
into like near of off on onto out outside over past per since than through throughout till to
toward towards under underneath unlike until up upon via with within without
""".split())
COORDINATORS = frozenset({"and", "or", "but", "nor", "&"})
RELATIVIZERS = frozenset({"who", "whom", "whose", "which", "that", "where", "when", "while",
                          "because", "if", "whether", "although", "though"})
PUNCT = frozenset({",", ";", ":", "(", ")", "[", "]", "{", "}", "-", "--", "—", "–", ".", "!",
                   "?", '"', "''", "``", "'", "`", "/", "...", "…"})
POSSESSIVE = frozenset({"'s", "'", "’s", "’"})
BOUNDARY = PREPOSITIONS | COORDINATORS | RELATIVIZERS | PUNCT


def head_index(tokens: list[str], start: int, end: int) -> int:
    """Head token index of the inclusive span ``tokens[start..end]`` (see module docstring)."""
    if not (0 <= start <= end < len(tokens)):
        raise ValueError(f"span ({start}, {end}) outside a sentence of {len(tokens)} tokens")
    low = [t.lower() for t in tokens]
    i = start
    # 1. leading determiners / prepositions
    while i < end and (low[i] in DETERMINERS or low[i] in PREPOSITIONS):
        i += 1
    # 2. cut at the first boundary after the chunk's first token
    j = i + 1
    while j <= end and low[j] not in BOUNDARY:
        j += 1
    # 3. last content token of tokens[i..j-1]
    k = j - 1
    while k > i and (low[k] in PUNCT or low[k] in POSSESSIVE):
        k -= 1
    return k


def _occurrences(needle: list[str], haystack: list[str], trig_start: int, trig_end: int) -> list[tuple[int, int]]:
    """All occurrences of `needle`, nearest to the trigger first (ties: leftmost); inclusive spans.

    The distance is the original `find_arg_span`'s, whose answer is the first element.
    """
    n = len(needle)
    if n == 0:
        return []
    found = []
    for i in range(len(haystack) - n + 1):
        if haystack[i:i + n] == needle:
            dis = abs(trig_start - i - n) if i < trig_start else abs(i - trig_end)
            found.append((dis, i, (i, i + n - 1)))
    return [span for _, _, span in sorted(found)]


def _occurrences_nospace(text: str, tokens: list[str], trig_start: int, trig_end: int) -> list[tuple[int, int]]:
    target = "".join(text.lower().split())
    if not target:
        return []
    low = [t.lower() for t in tokens]
    found = []
    for i in range(len(tokens)):
        acc = ""
        for j in range(i, len(tokens)):
            acc += low[j]
            if len(acc) > len(target) or not target.startswith(acc):
                break
            if acc == target:
                n = j - i + 1
                dis = abs(trig_start - i - n) if i < trig_start else abs(i - trig_end)
                found.append((dis, i, (i, j)))
                break
    return [span for _, _, span in sorted(found)]


def locate_all(text: str, tokens: list[str], trig_start: int, trig_end: int) -> list[tuple[int, int]]:
    """Candidate inclusive token spans of a predicted string, nearest to the trigger first.

    `trig_start`/`trig_end` are the trigger's OneIE offsets (end exclusive), as in the original.
    The first strategy that finds anything wins: exact words, then lowercased with hyphens
    split, then whitespace-free. An empty list means a hallucination.
    """
    words = text.replace("**", " ").split()
    spans = _occurrences(words, tokens, trig_start, trig_end)
    if spans:
        return spans
    norm: list[str] = []
    for w in words:
        w = w.lower()
        if "-" in w and len(w) > 1:
            norm.extend(w.replace("-", " - ").split())
        else:
            norm.append(w)
    spans = _occurrences(norm, [t.lower() for t in tokens], trig_start, trig_end)
    if spans:
        return spans
    return _occurrences_nospace(text.replace("**", ""), tokens, trig_start, trig_end)


def locate(text: str, tokens: list[str], trig_start: int, trig_end: int) -> tuple[int, int] | None:
    """The original's choice: the occurrence nearest to the trigger, or None."""
    spans = locate_all(text, tokens, trig_start, trig_end)
    return spans[0] if spans else None
