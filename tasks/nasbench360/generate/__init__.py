"""Offline generators for the NAS-Bench-360 tasks whose released data is itself synthetic (Darcy)."""
