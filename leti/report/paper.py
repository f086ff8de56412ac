"""The paper's reference numbers (spec §9.0, the LeTI poster) and the map from paper rows to runs.

Everything the report compares against lives here, as data. Percentages are in percent; the
poster's error-type counts are out of 500 MBPP problems x 16 samples = 8000 generations (2B).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from leti.core.vocab import PAPER_BUCKETS, SYNTAX_BUCKETS  # noqa: F401 (P.SYNTAX_BUCKETS in tables/claims)

# ---------------------------------------------------------------- facets: what a run *is*
# A paper row is described by facet values. A facet is read from the config axis of the same name
# when the grid has one (the arm names in config are axis values), otherwise derived from the
# run's parameters, so a config without e.g. a `reg` axis still maps its runs correctly.
FACETS = {
    "feedback": lambda p: str(p["fcft"]["feedback_type"]),
    "reg": lambda p: "off" if float(p["train"]["reg_ratio"]) == 0 else "on",
    # training on post-processed code (the original's `+postprocess` run; `+postprocess+langfb` adds the
    # cut-off text as feedback, spec §4.2). EAE always post-processes its generations: not a row choice.
    "train_postprocess": lambda p: ("off" if not p["sample"].get("postprocess") or p["task"]["train"] not in ("mbpp", "synth")
                                    else "langfb" if p["fcft"].get("postprocess_feedback") else "on"),
    # the paper's rows are runs trained on code (MBPP, or its synthetic analogue); EAE is its own row set
    "train_task": lambda p: "code" if p["task"]["train"] in ("mbpp", "synth") else str(p["task"]["train"]),
}
# the parameters each facet reads: an axis overriding one of them selects rows, not a context
FACET_PARAMS = {"feedback": ("fcft.feedback_type",), "reg": ("train.reg_ratio",),
                "train_postprocess": ("sample.postprocess", "fcft.postprocess_feedback"), "train_task": ("task.train",)}


@dataclass(frozen=True)
class PaperRow:
    label: str
    facets: dict = field(hash=False)
    iteration: str  # "base" (iteration 0) or "last"
    poster: str = ""  # the poster row whose numbers it is compared with ("" = `label`)

    @property
    def poster_label(self) -> str:
        return self.poster or self.label


LETI = {"feedback": "textual", "reg": "on", "train_postprocess": "off", "train_task": "code"}
PP = "LeTI, trained w/ post-processing"
PAPER_ROWS = [
    PaperRow("pre-trained", LETI, "base"),
    PaperRow("LeTI", LETI, "last"),
    PaperRow("LeTI w/o textual feedback", {**LETI, "feedback": "binary"}, "last"),
    PaperRow("LeTI w/o regularization", {**LETI, "reg": "off"}, "last"),
    # which of the original's two post-processing runs the poster's row is is not recorded: both are
    # compared with it, each at the checkpoint the original evaluated (ORIGINAL_ITERATION)
    PaperRow(PP, {**LETI, "train_postprocess": "on"}, "last"),
    PaperRow(PP + " + language feedback", {**LETI, "train_postprocess": "langfb"}, "last", poster=PP),
]
ROW_BY_LABEL = {r.label: r for r in PAPER_ROWS}

# The checkpoint the original evaluated for each poster row (leti/scripts/eval/jax_batch_infer_*.sh:
# checkpoint_<global step> / steps per iteration, 2244 with pre-training mixed in, 1122 without).
# The paper preset runs each arm for exactly this many iterations, so "last" is that checkpoint.
ORIGINAL_ITERATION = {
    ("350M", "LeTI"): 14, ("350M", "LeTI w/o textual feedback"): 14, ("350M", "LeTI w/o regularization"): 14,
    ("2B", "LeTI"): 6, ("2B", "LeTI w/o textual feedback"): 6, ("2B", "LeTI w/o regularization"): 6,
    ("2B", PP): 2,                              # 2B+rw_conditioned+mixpretrain+postprocess, checkpoint_4488
    ("2B", PP + " + language feedback"): 3,     # ...+postprocess+langfb, checkpoint_6732
}


def paper_model(model_value: str | None) -> tuple[str, bool]:
    """(paper model size, exact) for a `model` axis value: 350M / 2B, else the 2B reference."""
    v = (model_value or "").lower()
    if "350m" in v:
        return "350M", True
    if "2b" in v:
        return "2B", True
    return "2B", False


# ---------------------------------------------------------------- MBPP error types (2B, counts of 8000)
ERROR_TOTAL = 8000
ERROR_COUNTS = {
    "raw": {"pre-trained": {"AssertionError": 1189, "SyntaxError": 5179, "IndentationError": 467,
                            "other errors": 799, "pass": 366},
            "LeTI": {"AssertionError": 4356, "SyntaxError": 652, "IndentationError": 165,
                     "other errors": 572, "pass": 2255}},
    "postprocessed": {"pre-trained": {"AssertionError": 3835, "SyntaxError": 437, "NameError": 810,
                                      "other errors": 652, "pass": 2266},
                      "LeTI": {"AssertionError": 4376, "SyntaxError": 458, "NameError": 94,
                               "other errors": 657, "pass": 2415}},
}
# the poster's grouping of our buckets, per variant
ERROR_GROUPS = {
    "raw": [("AssertionError", ("AssertionError",)), ("SyntaxError", ("SyntaxError",)),
            ("IndentationError", ("IndentationError",)), ("other errors", ("NameError", "other")),
            ("pass", ("pass",))],
    "postprocessed": [("AssertionError", ("AssertionError",)), ("SyntaxError", ("SyntaxError",)),
                      ("NameError", ("NameError",)), ("other errors", ("IndentationError", "other")),
                      ("pass", ("pass",))],
}
BUCKETS = PAPER_BUCKETS  # the poster's table columns

# ---------------------------------------------------------------- MBPP pass@1, iteration 0 and final (2B)
# raw: poster (4.50 -> 28.00, LeTI, 6 iterations); w/ post-processing: the poster's error table
# (2266/8000 -> 2415/8000), whose LeTI column is the run trained w/ post-processing (its NameError falls
# "10 % -> 1 % within 2 iterations": the `+postprocess` run at iteration 2). The paper text's
# 26.89 -> 29.53 for that run is not on the poster: quoted in the table's note, not compared.
MBPP_PASS1 = {
    ("2B", "LeTI", "raw"): (4.50, 28.00),
    ("2B", PP, "postprocessed"): (2266 / 80, 2415 / 80),
}
MBPP_PP_TEXT = (26.89, 29.53)  # [SUM] paper text, not the poster
MBPP_PASS1_ITERATIONS = 6  # the poster's raw 4.50 -> 28.00 is "in 6 iterations"
EAE_F1_ITERATIONS = 3  # [SUM] "over 3 iterations" (the released script budgets 30)
EAE_MODEL = "350M"

# ---------------------------------------------------------------- HumanEval pass@1/10/100
HUMANEVAL = {
    ("350M", "pre-trained"): (12.56, 23.11, 35.1),
    ("350M", "LeTI w/o textual feedback"): (12.19, 21.69, 35.6),
    ("350M", "LeTI"): (13.19, 23.36, 36.9),
    ("2B", "pre-trained"): (23.70, 36.64, 57.0),
    ("2B", "LeTI w/o textual feedback"): (19.90, 35.62, 58.4),
    ("2B", "LeTI"): (21.60, 37.03, 58.2),
    ("2B", "LeTI, trained w/ post-processing"): (21.60, 39.51, 61.4),
}

# ---------------------------------------------------------------- GSM8K (PaL), BBH direct, CoT, CoT - direct
GSM_BBH = {
    ("2B", "pre-trained"): (40.03, 29.67, 36.81, 7.14),
    ("2B", "LeTI"): (38.97, 29.41, 37.46, 8.05),
    ("2B", "LeTI, trained w/ post-processing"): (42.99, 29.81, 36.72, 6.91),
    ("2B", "LeTI w/o textual feedback"): (41.93, 29.23, 36.71, 7.48),
    ("2B", "LeTI w/o regularization"): (32.15, 30.06, 35.82, 5.76),
    ("350M", "pre-trained"): (13.04, 29.10, 30.53, 1.43),
    ("350M", "LeTI"): (16.68, 28.89, 28.86, -0.03),
    ("350M", "LeTI w/o textual feedback"): (16.07, 28.81, 28.72, -0.09),
    ("350M", "LeTI w/o regularization"): (7.88, 28.00, 28.31, 0.31),
}

# ---------------------------------------------------------------- EAE (350M trained on EAE), F1 in percent
# [SUM] the paper text's numbers ("over 3 iterations"), not the poster's (the poster plots the curves
# without values): shown in their own "paper-text F1" columns
EAE_F1 = {"arg_i": (21.2, 33.5), "arg_c": (8.0, 10.6)}
# correlation of each metric with the train pass@1 over iterations (poster); the sign of Arg-C F1 is
# uncertain: the poster's figure reads 0.29, its text "-0.29"
EAE_CORRELATION_UNCERTAIN = {("arg_c", "f1")}
EAE_CORRELATION = {("arg_i", "p"): 0.93, ("arg_i", "r"): -0.08, ("arg_i", "f1"): 0.51,
                   ("arg_c", "p"): 0.73, ("arg_c", "r"): -0.24, ("arg_c", "f1"): 0.29}

# textual feedback reaches the binary arm's performance with 0.5x the FCFT gradient steps (2B)
SAMPLE_EFFICIENCY_RATIO = 0.5  # textual steps / binary steps

# ---------------------------------------------------------------- where each poster number comes from
# HumanEval's pre-trained rows are the CodeGen paper's numbers (the original's
# jax_batch_infer_humaneval.sh: "pre-trained performance are reported from the original paper"), not
# LeTI's own evaluation: a Δ against them, or an effect computed from them, crosses protocols.
SOURCE_POSTER = "poster"
SOURCE_CODEGEN = "poster, = the CodeGen paper's number (another protocol)"
SOURCE_SUMMARY = "paper text via a third-party summary (not on the poster)"
# The poster does not say which reward token its HumanEval/GSM8K/BBH rows used. For HumanEval the
# original's str.lstrip of <|good|> breaks `def` prompts, so its rows must be the no-token run; for
# GSM8K and BBH that reading is an assumption (their prompts are not broken by lstrip).
ASSUMED_NO_TOKEN = "assumed no token (the poster does not say; HumanEval's lstrip argument does not cover it)"


def _ood_changes(first: str, second: str) -> list[float]:
    """The poster's changes second - first over GSM8K, BBH direct and CoT, both model sizes."""
    return [GSM_BBH[(m, second)][i] - GSM_BBH[(m, first)][i] for m in ("350M", "2B") for i in range(3)
            if (m, first) in GSM_BBH and (m, second) in GSM_BBH]


# "No significant degradation" out of domain, as non-inferiority: the margin lies halfway between the
# largest drop the poster calls no degradation (LeTI vs pre-trained: 350M BBH CoT -1.67) and the
# smallest GSM8K drop it attributes to removing regularization (350M: 13.04 -> 7.88, -5.16).
LARGEST_ACCEPTED_DROP = -min(_ood_changes("pre-trained", "LeTI"))
SMALLEST_NOREG_GSM8K_DROP = min(GSM_BBH[(m, "pre-trained")][0] - GSM_BBH[(m, "LeTI w/o regularization")][0]
                                for m in ("350M", "2B"))
NONINFERIORITY_MARGIN = round((LARGEST_ACCEPTED_DROP + SMALLEST_NOREG_GSM8K_DROP) / 2, 1)

# Magnitude claims: our effect against the poster's, within a tolerance. The poster's number is one
# training run; an effect measured on this harness varies by 1.7-5.3 points from seed to seed
# (docs/claims.md), so an effect in points is "within tolerance" when its 95 % interval lies within
# +-5 points of the poster's; the step ratio when it lies within a factor of 1.5 of 0.5.
TOLERANCE_POINTS = 5.0
TOLERANCE_RATIO_FACTOR = 1.5
