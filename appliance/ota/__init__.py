"""ota domain (in progress)."""
