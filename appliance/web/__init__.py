"""web domain (in progress)."""
