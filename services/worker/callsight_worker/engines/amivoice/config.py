"""Where and how to reach AmiVoice: the deployment's settings, then one organisation's.

The deployment sets the APPKEY, the endpoints and default engines (environment
variables, read once). An organisation may choose its own engines and may allow
AmiVoice to keep its audio (`callsight.amivoice_settings`); everything else is the
deployment's. `RequestPlan` is the result for one channel: which interface, engine,
endpoint and `d` options one request uses.
"""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field

from callsight.amivoice_settings import ENGINE_NAME, AmiVoiceOrgSettings, AmiVoiceSettingsError

from ..base import PermanentTranscriptionError

ENV_APPKEY = "CALLSIGHT_AMIVOICE_APPKEY"
DEFAULT_SYNC_BASE_URL = "https://acp-api.amivoice.com/v1"
DEFAULT_ASYNC_URL = "https://acp-api-async.amivoice.com/v2/recognitions"
# Engines: the hybrid general engines for short audio; for long audio the batch engines
# AmiVoice recommends for its asynchronous interface (-a2b-*; English is in the multi one).
DEFAULT_ENGINES = {
    "engine_ja": "-a-general",
    "engine_en": "-a-general-en",
    "batch_engine_ja": "-a2b-ja-general",
    "batch_engine_en": "-a2b-multi-general",
}
# `d` options Callsight sets itself; an operator's extra options may not override them.
MANAGED_OPTIONS = frozenset({"grammarFileNames", "loggingOptOut", "profileWords", "compatibleWithSync"})
TELEPHONE_CODECS = ("mulaw", "alaw")


class AmiVoiceConfigError(PermanentTranscriptionError, ValueError):
    """The engine is not configured (missing APPKEY, a malformed setting)."""


@dataclass(frozen=True)
class AmiVoiceSettings:
    """The deployment's AmiVoice settings. `appkey` is kept out of the repr."""

    appkey: str = field(repr=False)
    sync_base_url: str = DEFAULT_SYNC_BASE_URL
    async_url: str = DEFAULT_ASYNC_URL
    engine_ja: str = DEFAULT_ENGINES["engine_ja"]
    engine_en: str = DEFAULT_ENGINES["engine_en"]
    batch_engine_ja: str = DEFAULT_ENGINES["batch_engine_ja"]
    batch_engine_en: str = DEFAULT_ENGINES["batch_engine_en"]
    # AmiVoice keeps request audio unless told not to: off unless an operator allows it
    allow_logging: bool = False
    # how telephone-band audio is sent to an engine that takes 8 kHz
    telephone_codec: str = "mulaw"
    # engines known to take 8 kHz audio beyond the documented ones (engines.py)
    extra_8k_engines: frozenset[str] = frozenset()
    connect_timeout_s: float = 10.0
    # a sync request holds the connection while AmiVoice recognises the audio
    read_timeout_s: float = 300.0
    # the documented limit of the synchronous interface (16 MB)
    sync_max_bytes: int = 16_777_215
    # longer audio goes to the asynchronous interface, whose results carry utterances
    sync_max_duration_s: float = 120.0
    # async polling: start quick, back off to this interval
    poll_min_interval_s: float = 2.0
    poll_interval_s: float = 15.0
    # how long one attempt waits for a job: base + per_audio x audio seconds (v1 took
    # 0.3-1x the audio, v2 about 5-6 min for 90 min); the job id is kept, so a longer
    # wait goes on in the next attempt instead of a new (billed) job
    wait_base_s: float = 900.0
    wait_per_audio_s: float = 1.0
    # consecutive failed polls tolerated before the attempt gives up (the job is kept)
    poll_error_tolerance: int = 5
    # extra `d` options, e.g. (("keepFillerToken", "1"),)
    d_options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AmiVoiceSettings:
        """Parse and check the worker's CALLSIGHT_AMIVOICE_* variables (read once, by its settings)."""
        appkey = env.get(ENV_APPKEY, "").strip()
        if not appkey:
            raise AmiVoiceConfigError(
                f"AmiVoice engine: {ENV_APPKEY} is not set; put the APPKEY from the AmiVoice MyPage in that "
                "environment variable of the workers"
            )
        engines = {name: _engine(env, f"CALLSIGHT_AMIVOICE_{name.upper()}", default)
                   for name, default in DEFAULT_ENGINES.items()}
        codec = (env.get("CALLSIGHT_AMIVOICE_TELEPHONE_CODEC") or "mulaw").strip().lower()
        if codec not in TELEPHONE_CODECS:
            raise AmiVoiceConfigError("AmiVoice engine: CALLSIGHT_AMIVOICE_TELEPHONE_CODEC must be mulaw or alaw")
        extra = frozenset(n for n in (env.get("CALLSIGHT_AMIVOICE_8K_ENGINES") or "").replace(",", " ").split())
        for name in extra:
            _check_engine("CALLSIGHT_AMIVOICE_8K_ENGINES", name)
        return cls(
            appkey=appkey,
            sync_base_url=(env.get("CALLSIGHT_AMIVOICE_SYNC_BASE_URL") or DEFAULT_SYNC_BASE_URL).rstrip("/"),
            async_url=(env.get("CALLSIGHT_AMIVOICE_ASYNC_URL") or DEFAULT_ASYNC_URL).rstrip("/"),
            allow_logging=_bool(env, "CALLSIGHT_AMIVOICE_ALLOW_LOGGING"),
            telephone_codec=codec,
            extra_8k_engines=extra,
            sync_max_duration_s=_positive(env, "CALLSIGHT_AMIVOICE_SYNC_MAX_S", 120.0),
            poll_interval_s=_positive(env, "CALLSIGHT_AMIVOICE_POLL_INTERVAL_S", 15.0),
            wait_base_s=_positive(env, "CALLSIGHT_AMIVOICE_WAIT_BASE_S", 900.0),
            wait_per_audio_s=_positive(env, "CALLSIGHT_AMIVOICE_WAIT_PER_AUDIO", 1.0),
            d_options=parse_d_options(env.get("CALLSIGHT_AMIVOICE_D_OPTIONS", "")),
            engine_ja=engines["engine_ja"],
            engine_en=engines["engine_en"],
            batch_engine_ja=engines["batch_engine_ja"],
            batch_engine_en=engines["batch_engine_en"],
        )

    def max_wait_s(self, audio_s: float) -> float:
        return self.wait_base_s + self.wait_per_audio_s * max(0.0, audio_s)


@dataclass(frozen=True)
class ChannelPlan:
    """What one channel's request looks like, before the audio is encoded."""

    use_async: bool
    engine: str
    allow_logging: bool

    def url(self, settings: AmiVoiceSettings) -> str:
        if self.use_async:
            return settings.async_url
        # the synchronous interface has one endpoint that logs and one that does not
        return f"{settings.sync_base_url}/recognize" if self.allow_logging else f"{settings.sync_base_url}/nolog/recognize"


def org_settings(raw: Mapping[str, object]) -> AmiVoiceOrgSettings:
    """The organisation's stored settings; a malformed one fails the call with a clear reason."""
    try:
        return AmiVoiceOrgSettings.from_json(raw or None)
    except AmiVoiceSettingsError as exc:
        raise AmiVoiceConfigError(f"AmiVoice settings of this organisation are not valid: {exc}") from None


def plan_channel(settings: AmiVoiceSettings, org: AmiVoiceOrgSettings, language: str, use_async: bool) -> ChannelPlan:
    lang = language.lower()
    if lang.startswith("ja"):
        suffix = "ja"
    elif lang.startswith("en"):
        suffix = "en"
    else:
        raise PermanentTranscriptionError(f"AmiVoice engine: no engine is configured for language {language!r}")
    name = f"{'batch_engine' if use_async else 'engine'}_{suffix}"
    engine = getattr(org, name) or getattr(settings, name)
    allow_logging = settings.allow_logging if org.allow_logging is None else org.allow_logging
    return ChannelPlan(use_async=use_async, engine=engine, allow_logging=allow_logging)


def build_d(engine: str, options: list[tuple[str, str]]) -> str:
    """The `d` part: space separated key=value pairs, every value URL-encoded (documented)."""
    pairs = [("grammarFileNames", engine), *options]
    return " ".join(f"{k}={urllib.parse.quote(v, safe='-_.~')}" for k, v in pairs)


def parse_d_options(raw: str) -> tuple[tuple[str, str], ...]:
    options = []
    for item in raw.split():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise AmiVoiceConfigError(f"AmiVoice engine: CALLSIGHT_AMIVOICE_D_OPTIONS item {item!r} is not key=value")
        if key in MANAGED_OPTIONS:
            raise AmiVoiceConfigError(
                f"AmiVoice engine: CALLSIGHT_AMIVOICE_D_OPTIONS may not set {key}; Callsight sets it "
                "(engines and logging are settings of their own)"
            )
        options.append((key, urllib.parse.unquote(value)))
    return tuple(options)


def _engine(env: Mapping[str, str], name: str, default: str) -> str:
    value = (env.get(name) or default).strip()
    _check_engine(name, value)
    return value


def _check_engine(name: str, value: str) -> None:
    if not ENGINE_NAME.match(value):
        raise AmiVoiceConfigError(
            f"AmiVoice engine: {name}={value!r} is not a connection engine name (like -a-general)")


def _bool(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "false").strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise AmiVoiceConfigError(f"AmiVoice engine: {name} must be true or false, got {raw!r}")


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise AmiVoiceConfigError(f"AmiVoice engine: {name}={raw!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise AmiVoiceConfigError(f"AmiVoice engine: {name} must be a positive number")
    return value
