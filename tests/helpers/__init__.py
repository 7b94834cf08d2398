"""Shared building blocks of the tests, one module per feature."""
