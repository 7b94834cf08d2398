"""Writes of the back office, one module per feature: candidates, groups, staff, settings."""
