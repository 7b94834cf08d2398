"""Forms of the back office, one module per feature; shared fields in forms.common."""
