"""Feedback-Conditioned Fine-Tuning: dataset construction, training, held-out LM loss."""
