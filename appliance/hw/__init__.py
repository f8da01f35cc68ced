"""hw domain (in progress)."""
