"""Importers: contacts and accounts from CSV, XLSX and vCard files, deals from another CRM's export."""
