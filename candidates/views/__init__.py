"""Views of the back office, one module per feature; candidates/urls.py imports each."""
