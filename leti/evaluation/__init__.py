"""Stage 6: scoring a checkpoint's samples (pass@k, error buckets, BBH, EAE metrics) into metrics JSON."""
