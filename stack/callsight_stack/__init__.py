"""Local stack launcher for Callsight (make up / make down, and the test fixtures)."""
