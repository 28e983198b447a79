"""An organisation's AmiVoice settings: what the gateway stores and the worker obeys.

Stored as JSON in `organizations.engine_settings["amivoice"]`. Every field is optional:
absent means the deployment's default (environment variables of the worker). The one
rule that matters for privacy is `allow_logging`: AmiVoice keeps the audio and results
of a request unless the client opts out, so Callsight opts out unless an administrator
of the organisation allows it here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

# Connection engine names as AmiVoice documents them: "-a-general", "-a2b-ja-general", ...
ENGINE_NAME = re.compile(r"^-[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
ENGINE_FIELDS = ("engine_ja", "engine_en", "batch_engine_ja", "batch_engine_en")


class AmiVoiceSettingsError(ValueError):
    """A stored or submitted setting is malformed; the message says which and why."""


@dataclass(frozen=True)
class AmiVoiceOrgSettings:
    # let AmiVoice keep the audio and results of this organisation's requests (off: no-log)
    allow_logging: bool | None = None
    # engines for short audio (synchronous interface), by call language
    engine_ja: str | None = None
    engine_en: str | None = None
    # engines for long audio (asynchronous interface); AmiVoice recommends its batch engines
    batch_engine_ja: str | None = None
    batch_engine_en: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> AmiVoiceOrgSettings:
        """Parse and validate; an unknown key or a bad value raises `AmiVoiceSettingsError`."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise AmiVoiceSettingsError("AmiVoice settings must be a JSON object")
        unknown = sorted(set(data) - {"allow_logging", *ENGINE_FIELDS})
        if unknown:
            raise AmiVoiceSettingsError(f"unknown AmiVoice setting(s): {', '.join(unknown)}")
        logging = data.get("allow_logging")
        if logging is not None and not isinstance(logging, bool):
            raise AmiVoiceSettingsError("allow_logging must be true or false")
        engines: dict[str, str | None] = {}
        for name in ENGINE_FIELDS:
            value = data.get(name)
            if value is None or value == "":
                engines[name] = None
                continue
            if not isinstance(value, str) or not ENGINE_NAME.match(value):
                raise AmiVoiceSettingsError(
                    f"{name} must be an AmiVoice connection engine name such as -a-general or "
                    f"-a2b-ja-general, got {value!r}"
                )
            engines[name] = value
        return cls(allow_logging=logging, **engines)

    def to_json(self) -> dict[str, Any]:
        """Only the fields that are set: absent means the deployment default."""
        return {k: v for k, v in asdict(self).items() if v is not None}
