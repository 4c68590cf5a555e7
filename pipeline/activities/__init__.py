"""Touches with the customer: calls, visits, e-mails, meetings and notes."""
