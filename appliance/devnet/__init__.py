"""devnet domain (in progress)."""
