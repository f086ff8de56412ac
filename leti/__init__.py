"""leti-harness: reproduce LeTI (Learning to Generate from Textual Interactions)."""
import os

__version__ = "0.1.0"

# OpenMP threads that spin while waiting for work steal the cores from each other and from the other
# jobs when a machine runs more threads than it has cores (two torch threads on a loaded 2-core machine
# pre-trained 8x slower than one). Waiting passively gives the same bytes at the same thread count
# (docs/measurements.md); set before torch is imported, as every leti entry point imports this first.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
