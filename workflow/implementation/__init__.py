"""Implementation: units, the annual cycle and plan, indicators."""
