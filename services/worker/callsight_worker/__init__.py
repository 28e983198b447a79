"""Callsight worker: takes one job at a time from SQS and turns a recording into results."""
