"""The AmiVoice API engine (Advanced Media): a plain HTTP client of its documented interfaces."""

from .config import AmiVoiceConfigError, AmiVoiceSettings
from .transcriber import AmiVoiceTranscriber

__all__ = ["AmiVoiceConfigError", "AmiVoiceSettings", "AmiVoiceTranscriber"]
