"""Users, teams, roles, API tokens, and the one place that scopes queries to a user."""
