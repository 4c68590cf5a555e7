"""Realistic Chinese B2B demo data."""
