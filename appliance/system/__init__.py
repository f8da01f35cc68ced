"""system domain (in progress)."""
