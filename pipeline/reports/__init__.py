"""Reports for team leads: funnel, conversion, week-over-week, strategy, forecast."""
