"""The weekly pipeline export: a workbook (or the deals as CSV) for a week, on demand, by mail, on the web."""
