"""Choosing the engine is configuration: per deployment, overridable per organisation."""

from __future__ import annotations

import logging

from callsight_worker.engines.base import Transcriber
from callsight_worker.language import LanguageDetector
from callsight_worker.model import ModelError
from callsight_worker.settings import WorkerSettings
from callsight_worker.speech import speaker_encoder
from callsight_worker.speech.speaker_encoder import SpeakerEncoder, SpeakerModelError

log = logging.getLogger(__name__)


def build_engine(name: str, settings: WorkerSettings) -> Transcriber:
    if name == "whisper":
        from callsight_worker.engines.whisper import WhisperTranscriber

        return WhisperTranscriber(settings.model_path, threads=settings.whisper_threads)
    if name == "amivoice":
        from callsight_worker.engines.amivoice import AmiVoiceSettings, AmiVoiceTranscriber

        return AmiVoiceTranscriber(AmiVoiceSettings.from_env(settings.amivoice_environ()))
    raise RuntimeError(f"unknown transcription engine {name!r} (whisper or amivoice)")


class EngineRegistry:
    """Engines built once per process, on first use."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self._engines: dict[str, Transcriber] = {}

    def get(self, name: str | None = None) -> Transcriber:
        name = name or self.settings.engine
        if name not in self._engines:
            self._engines[name] = build_engine(name, self.settings)
        return self._engines[name]

    def language_detector(self) -> LanguageDetector | None:
        """Whisper's language identification, whichever engine transcribes (None without the model)."""
        try:
            engine = self.get("whisper")
        except (ModelError, OSError, RuntimeError):
            return None
        return engine if isinstance(engine, LanguageDetector) else None

    def speaker_encoder(self) -> SpeakerEncoder | None:
        """Voiceprints for one-track calls (None when diarization is off; a missing model is an error)."""
        if not self.settings.diarization:
            return None
        try:
            # as many cores as the call's transcription: it runs after it, on the same call
            return speaker_encoder.load(str(self.settings.speaker_model_path), self.settings.whisper_threads)
        except SpeakerModelError:
            log.error("speaker model missing in %s: mono calls stay 'mixed'", self.settings.speaker_model_path)
            return None
