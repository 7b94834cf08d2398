"""Benchmarks of the import and the candidate list, run by hand with `make bench`.

Never part of the test suite (pytest collects tests/ only). See bench/README.md.
"""
