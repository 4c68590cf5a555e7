"""The company's report figures kept ready: each deal's share of the funnel, added up once and kept in step.

Reading a year of history for every company-wide funnel costs seconds at a million deals. Instead each deal's
contribution (its stays, its entries to each stage with whether it moved on, its outcome and where it stands)
is added into small tables of daily counts when the deal changes, and a report adds up the days it needs.
Deals changed since their contribution was last counted are read live and laid over the counts, so every
figure is exact and current (docs/reports.md, "Kept figures").
"""
