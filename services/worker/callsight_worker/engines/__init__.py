"""Transcription engines behind one small interface (see `base.Transcriber`)."""
