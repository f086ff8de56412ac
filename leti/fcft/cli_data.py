"""`leti fcft-data`: execution records -> FCFT examples JSONL (+ stats JSON)."""
from __future__ import annotations

from leti.io import atomic_write_json, atomic_write_jsonl, read_jsonl


def configure(p):
    p.add_argument("--problems", required=True)
    p.add_argument("--samples", required=True)
    p.add_argument("--executions", required=True)
    p.add_argument("--feedback-type", choices=["textual", "binary", "none"], required=True)
    p.add_argument("--postprocess", default=None, help="post-process kind applied to solutions (mbpp, eae, ...)")
    p.add_argument("--postprocess-feedback", action="store_true", help="spec §4.2 extra feedback")
    p.add_argument("--out", required=True)
    p.add_argument("--stats", default=None)


def run(args):
    from leti.fcft.dataset import build_examples

    problems = read_jsonl(args.problems, required=("task_id", "prompt"))
    samples = read_jsonl(args.samples, required=("task_id", "sample_idx", "completion"))
    results = read_jsonl(args.executions, required=("status",))
    examples, stats = build_examples(problems, samples, results, args.feedback_type,
                                     postprocess=args.postprocess, postprocess_feedback=args.postprocess_feedback)
    atomic_write_jsonl(args.out, examples)
    stats.update({"feedback_type": args.feedback_type, "postprocess": args.postprocess,
                  "postprocess_feedback": args.postprocess_feedback})
    if args.stats:
        atomic_write_json(args.stats, stats)
    print(f"wrote {len(examples)} FCFT examples to {args.out} (train pass rate {stats['pass_rate']:.3f})")
    return 0
