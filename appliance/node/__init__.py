"""node domain (in progress)."""
