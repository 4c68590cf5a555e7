"""Satisfaction and RATER after a sale: the surveys, their trends, pages and API."""
