"""Writes. Each function is one unit of work: it checks, changes and records, in one transaction."""
