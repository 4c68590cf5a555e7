"""Complaints (客户抱怨): the steps of seed 003, their service, pages, report and API."""
