"""discovery domain (in progress)."""
