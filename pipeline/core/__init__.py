"""Pieces every feature package shares: base model, column types, errors, time."""
