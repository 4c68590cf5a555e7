"""Deals and the five-stage method they move through."""
