"""Accounts (companies or people we sell to) and their contacts."""
