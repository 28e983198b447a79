"""Callsight status service: internal gRPC reads of calls, Redis in front of PostgreSQL."""
