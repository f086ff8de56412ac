"""Readable names for the report's figures: arms, contexts, benchmarks, and degenerate panels.

An arm is named from its facets (what the paper's rows are made of: feedback type, regularization,
post-processing, training task) in the poster's own words, never from its run id: "LeTI", "LeTI w/o
textual feedback", "LeTI w/o regularization", "LeTI, trained w/ post-processing", "LeTI on EAE, w/o
regularization", "no-feedback control". Tables and figures use the same names. Axes that are not
facets (the model, a user's `lr` axis, ...) are named `axis=value` ("lr=3e-4"); they are added to an
arm's name only where two arms would otherwise read the same, and to a context's name only where the
contexts differ.
"""
from __future__ import annotations

import math

# ---------------------------------------------------------------- facets
FEEDBACK = {"textual": "LeTI", "binary": "LeTI w/o textual feedback", "none": "no-feedback control"}
# facet value -> phrase; None: the LeTI default, which goes unsaid (in this order in a name)
MODIFIERS = {
    "train_task": {"code": None, "eae": "on EAE"},
    "reg": {"on": None, "off": "w/o regularization"},
    "train_postprocess": {"off": None, "on": "trained w/ post-processing",
                          "langfb": "trained w/ post-processing + language feedback"},
}
BASE = "pre-trained"

BENCHMARKS = {
    "synth_test": "synth_test (synthetic MBPP analogue)",
    "synth_transfer": "synth_transfer (HumanEval analogue)",
    "synth_retention": "synth_retention (GSM8K analogue)",
    "mbpp": "MBPP test",
    "humaneval": "HumanEval",
    "gsm8k": "GSM8K (PaL)",
    "eae": "EAE",
}


def axis_label(name: str, value) -> str:
    """`lr=3e-4`: an axis and its value, as the config names them."""
    return f"{name}={value}"


def facet_label(facets: dict) -> str:
    """A readable name for an arm from its facets (see the module docstring)."""
    fb = facets.get("feedback", "textual")
    mods = []
    for facet, phrases in MODIFIERS.items():
        if facet not in facets:
            continue
        v = facets[facet]
        if v in phrases:
            if phrases[v]:
                mods.append(phrases[v])
        else:
            mods.append(axis_label(facet, v))
    for facet in sorted(set(facets) - set(MODIFIERS) - {"feedback"}):  # facets this module does not know
        mods.append(axis_label(facet, facets[facet]))
    name = FEEDBACK.get(fb, axis_label("feedback", fb))
    if not mods:
        return name
    glue = " " if name == "LeTI" and mods[0].startswith(("w/o ", "on ")) else ", "
    return name + glue + ", ".join(mods)


def _differing(axes_list: list[dict]) -> list[str]:
    """Axis names (first-seen order) whose values are not the same in every dict."""
    names = list(dict.fromkeys(k for a in axes_list for k in a))
    return [k for k in names if len({str(a.get(k)) for a in axes_list}) > 1]


def context_labels(contexts: dict[str, dict]) -> dict[str, str]:
    """context -> name from the context's axes that vary between contexts ("" when there is one context)."""
    if len(contexts) <= 1:
        return {c: "" for c in contexts}
    keys = _differing(list(contexts.values())) or list(dict.fromkeys(k for a in contexts.values() for k in a))
    return {c: ", ".join(axis_label(k, ax[k]) for k in keys if k in ax) or c for c, ax in contexts.items()}


def arm_names(arms, facet_axes) -> dict[str, str]:
    """arm id -> a name unique within its context (no context prefix: what a table row with a context
    column shows). Arms of one context that share a facet name get the axes that tell them apart."""
    arms = list(arms)
    out: dict[str, str] = {}
    for ctx in dict.fromkeys(a.context for a in arms):
        group = [a for a in arms if a.context == ctx]
        base = {a.id: facet_label(a.facets) for a in group}
        for a in group:
            twins = [b for b in group if base[b.id] == base[a.id]]
            name = base[a.id]
            if len(twins) > 1:
                keys = _differing([b.axes for b in twins])
                name += " (" + ", ".join(axis_label(k, a.axes.get(k)) for k in keys) + ")" if keys else f" [{a.id}]"
            out[a.id] = name
    return out


def arm_labels(arms, facet_axes) -> dict[str, str]:
    """arm id -> unique readable name across contexts, for objects with `.id`, `.axes`, `.facets` and
    `.context` (leti.report.collect.Arm); `facet_axes`: the axes that select a paper row
    (Results.facet_axes), the others make the contexts. With several contexts the context's name comes
    first ("lr=3e-4: LeTI")."""
    arms = list(arms)
    ctx_axes: dict[str, dict] = {}
    for a in arms:
        ctx_axes.setdefault(a.context, {k: v for k, v in a.axes.items() if k not in facet_axes})
    ctx_names = context_labels(ctx_axes)
    names = arm_names(arms, facet_axes)
    return {a.id: f"{ctx_names[a.context]}: {names[a.id]}" if ctx_names[a.context] else names[a.id] for a in arms}


def context_name(axes: dict) -> str:
    """A context as a table shows it: every context axis as axis=value ("model=2B")."""
    return ", ".join(axis_label(k, v) for k, v in axes.items()) or "all"


def benchmark_label(name: str) -> str:
    return BENCHMARKS.get(name, name)


# ---------------------------------------------------------------- degenerate panels
ALL_ZERO = "all zero at this scale"
ALL_MISSING = "no values (not evaluated or not computable)"


def degenerate(values) -> str | None:
    """Why a panel's values carry no picture: ALL_MISSING (none / NaN only), ALL_ZERO, else None."""
    vals = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not vals:
        return ALL_MISSING
    if all(v == 0 for v in vals):
        return ALL_ZERO
    return None
