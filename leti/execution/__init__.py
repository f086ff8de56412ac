"""Stage 4 (torch-free): programs from samples, post-processing, the sandboxed solution evaluator and
the EAE verifier, run once here so that every later stage reads final verdicts."""
