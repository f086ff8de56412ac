"""Stage 0, used by every stage: errors, atomic I/O, paths, provenance and the one vocabulary."""
