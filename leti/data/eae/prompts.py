"""Code4Struct-style prompts built from the GENEVA ontology.

GENEVA differs from ACE05 in two ways that shape the prompt (both documented in README.md):

* **No entity types.** GENEVA's entity mentions carry no type (ACE has PER, ORG, GPE, ...).
  The only typing the ontology gives is the per-role flag ``is_entity``. So there are two
  argument classes, both subclasses of ``Entity`` (the verifier needs ``.name``):
  ``Participant`` for entity roles and ``Content`` for non-entity roles (situations, actions,
  descriptions, quantities).
* **No event hierarchy.** The ontology maps each of its 179 event types to FrameNet frames but
  has no parent types (the MAVEN hierarchy GENEVA derives from is not in the data). Every event
  class therefore derives from ``Event`` directly, Code4Struct's ``--no-parent-cls`` layout.

Two styles:

``full`` (default, for real models): the Code4Struct context (``from typing import List``,
``Entity``, ``Event``, both argument classes with docstrings), then the event class whose
docstring is the ontology's event description followed by one line per role with the role's
description, then the ``Translate the following sentence ...`` docstring with the trigger marked
``**like this**``, then the instantiation prefix ``{cls}_event = {Cls}(\\n``.

``compact`` (for tiny models with a small context): only ``Entity``, the argument classes the
event's roles use (without docstrings), ``Event``, the event class with the first sentence of
its description and no role descriptions, then the same instruction and prefix.

Roles become attributes ``role.lower()``, sorted by name, each typed ``List[Participant]`` or
``List[Content]`` with default ``[]``. Class text is cached per (ontology, event type, style).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from leti.core.errors import UserError

STYLES = ("full", "compact")

BASE_HEADER = "from typing import List\n"
ENTITY_CLS = (
    "class Entity:\n"
    "    def __init__(self, name: str):\n"
    "        self.name = name\n"
)
EVENT_CLS = (
    "class Event:\n"
    "    def __init__(self, name: str):\n"
    "        self.name = name\n"
)
ARG_CLASSES = {
    "Participant": "A person, group, organization, object, place or other entity that takes part in the event.",
    "Content": "A non-entity argument: a situation, action, state, quantity, manner or description, expressed by a phrase of the sentence.",
}


def class_name(event_type: str) -> str:
    """Code4Struct's `normalize_to_underscore`: ``Commerce_money-transfer`` -> ``Commerce_money_transfer``."""
    return event_type.replace(" ", "_").replace("-", "_")


def var_name(event_type: str) -> str:
    return f"{class_name(event_type).lower()}_event"


def _doc(text: str) -> str:
    """Make text safe inside a triple-double-quoted docstring."""
    text = text.replace("\\", "\\\\").replace('"""', "'''")
    return re.sub(r"\s+", " ", text).strip()


def _first_sentence(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    m = re.match(r"(.+?[.!?])(\s|$)", text)
    return m.group(1) if m else text


@dataclass
class EventSchema:
    event_type: str
    cls: str
    var: str
    description: str
    roles: list[dict]  # sorted by attr: {role, attr, arg_cls, description}

    @property
    def attr_to_role(self) -> dict[str, str]:
        return {r["attr"]: r["role"] for r in self.roles}

    @property
    def role_to_attr(self) -> dict[str, str]:
        return {r["role"]: r["attr"] for r in self.roles}

    def arg_cls(self, role: str) -> str:
        for r in self.roles:
            if r["role"] == role:
                return r["arg_cls"]
        return "Participant"


@dataclass
class Ontology:
    path: str
    events: dict[str, EventSchema]
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: str | Path) -> "Ontology":
        path = Path(path)
        if not path.exists():
            raise UserError(f"{path}: ontology file not found")
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
        events = {}
        for etype, entry in raw.items():
            if not isinstance(entry, dict) or "arguments" not in entry:
                raise UserError(f"{path}: event {etype!r}: missing field 'arguments'")
            roles = []
            for role, arg in entry["arguments"].items():
                roles.append({
                    "role": role,
                    "attr": role.lower().replace("-", "_").replace(" ", "_"),
                    "arg_cls": "Participant" if arg.get("is_entity", True) else "Content",
                    "description": arg.get("arg_desc") or "",
                })
            roles.sort(key=lambda r: r["attr"])
            attrs = [r["attr"] for r in roles]
            if len(set(attrs)) != len(attrs):
                raise UserError(f"{path}: event {etype!r}: two roles map to the same attribute")
            events[etype] = EventSchema(etype, class_name(etype), var_name(etype),
                                        entry.get("description") or "", roles)
        return cls(str(path), events)

    def schema(self, event_type: str) -> EventSchema:
        try:
            return self.events[event_type]
        except KeyError:
            raise UserError(f"{self.path}: unknown event type {event_type!r}") from None

    def context(self, event_type: str, style: str = "full") -> str:
        """Class definitions preceding the instruction (deterministic, cached)."""
        if style not in STYLES:
            raise UserError(f"prompt style must be one of {STYLES}, got {style!r}")
        key = (event_type, style)
        if key not in self._cache:
            self._cache[key] = _render_context(self.schema(event_type), style)
        return self._cache[key]

    def prompt(self, event_type: str, tokens: list[str], trig_start: int, trig_end: int,
               style: str = "full") -> str:
        s = self.schema(event_type)
        return (self.context(event_type, style)
                + instruction(s.cls, mark_trigger(tokens, trig_start, trig_end))
                + instantiation_prefix(s))


def _arg_class_def(name: str, with_doc: bool) -> str:
    out = f"class {name}(Entity):\n"
    if with_doc:
        out += f'    """{ARG_CLASSES[name]}"""\n\n'
    out += ("    def __init__(self, name: str):\n"
            "        super().__init__(name=name)\n")
    return out


def _event_class_def(s: EventSchema, style: str) -> str:
    out = f"class {s.cls}(Event):\n"
    if style == "full":
        lines = [_doc(s.description)] if s.description else []
        if s.roles:
            lines.append("")
            lines.append("Roles:")
            lines += [f"    {r['attr']}: {_doc(r['description'])}" for r in s.roles]
        doc = "\n".join(("    " + ln) if ln else "" for ln in lines).lstrip()
        out += f'    """{doc}\n    """\n\n' if s.roles else f'    """{doc}"""\n\n'
    elif s.description:
        out += f'    """{_doc(_first_sentence(s.description))}"""\n\n'
    if s.roles:
        out += "    def __init__(\n        self,\n"
        for r in s.roles:
            out += f"        {r['attr']}: List[{r['arg_cls']}] = [],\n"
        out += "    ):\n"
        for r in s.roles:
            out += f"        self.{r['attr']} = {r['attr']}\n"
    else:
        out += "    def __init__(self):\n        pass\n"
    return out


def _render_context(s: EventSchema, style: str) -> str:
    if style == "full":
        used = list(ARG_CLASSES)
    else:
        used = [c for c in ARG_CLASSES if any(r["arg_cls"] == c for r in s.roles)]
    parts = [BASE_HEADER, ENTITY_CLS, EVENT_CLS]
    parts += [_arg_class_def(c, with_doc=(style == "full")) for c in used]
    parts.append(_event_class_def(s, style))
    return "\n\n".join(parts) + "\n"


def mark_trigger(tokens: list[str], start: int, end: int) -> str:
    """Code4Struct's `mark_trigger_in_sentence`: ``**`` around the trigger tokens [start, end)."""
    toks = list(tokens)
    toks[start] = f"**{toks[start]}"
    toks[end - 1] = f"{toks[end - 1]}**"
    return " ".join(toks)


def instruction(cls: str, marked_sentence: str) -> str:
    sentence = marked_sentence.replace("\\", "\\\\").replace('"""', "'''")
    return (
        f'"""\nTranslate the following sentence into an instance of {cls}. '
        "The trigger word(s) of the event is marked with **trigger word**.\n"
        f'"{sentence}"\n'
        '"""\n'
    )


def instantiation_prefix(s: EventSchema) -> str:
    return f"{s.var} = {s.cls}(\n"


def py_str(text: str) -> str:
    """A double-quoted Python string literal for `text` (escapes quotes and backslashes)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def render_completion(s: EventSchema, args: list[tuple[str, str]]) -> str:
    """Code4Struct ground-truth instance code after the prefix: roles in class order.

    `args` is a list of (role, text). Unknown roles raise UserError.
    """
    by_role: dict[str, list[str]] = {}
    r2a = s.role_to_attr
    for role, text in args:
        if role not in r2a:
            raise UserError(f"event type {s.event_type!r} has no role {role!r}")
        by_role.setdefault(role, []).append(text)
    out = ""
    for r in s.roles:
        if r["role"] in by_role:
            out += f"    {r['attr']}=[\n"
            for text in by_role[r["role"]]:
                out += f"        {r['arg_cls']}({py_str(text)}),\n"
            out += "    ],\n"
    return out + ")\n"
