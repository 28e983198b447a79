"""Callsight upload gateway: the public HTTP surface (Ingest API, REST API, web UI)."""
