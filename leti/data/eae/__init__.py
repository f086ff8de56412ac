"""Event argument extraction (EAE) as code generation (Code4Struct) on GENEVA; spec §8.5.

* `build_problems(split, style="full"|"compact", data_root=None, limit=None)` -> Problem records
  (benchmark/scorer/postprocess ``eae``; an extra top-level ``capture`` field holds the code the
  evaluator must run after the program to return the instantiated arguments as data).

Verification of executed programs: `leti.execution.eae_verify`; Arg-I/Arg-C metrics:
`leti.evaluation.eae_metrics`. See README.md in this folder for the design (head rule vs spaCy,
prompt styles, deviations).
"""
from __future__ import annotations

from leti.data.eae.data import build_problems, capture_code, load_ontology
from leti.data.eae.prompts import Ontology

__all__ = ["build_problems", "capture_code", "load_ontology", "Ontology"]
