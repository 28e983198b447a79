"""Fakes of outside services, run on loopback for the tests."""
