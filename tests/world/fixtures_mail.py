"""Fixtures of the test world (being written)."""
