"""Aftaleflow: workflow and case tracking for the health agreement in Region Hovedstaden."""

__version__ = "0.1.0"
