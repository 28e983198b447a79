"""Callsight shared library: what every service needs and nothing service-specific."""
