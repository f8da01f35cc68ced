"""drives domain (in progress)."""
