"""leti-harness: reproduce LeTI (Learning to Generate from Textual Interactions)."""

__version__ = "0.1.0"
