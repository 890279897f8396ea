"""Revcycle: follows every billable session from "completed" to "paid"."""

__version__ = "0.1.0"
