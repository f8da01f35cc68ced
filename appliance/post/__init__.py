"""post domain (in progress)."""
