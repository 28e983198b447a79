"""One recording in, one transcript out: the processing of a call, step by step.

    decode ─▶ speech activity per channel (own speech, echo of the other side)
           ─▶ language (asked for, or detected from the speech)
           ─▶ transcribe each side's own speech (any engine)
           ─▶ guards (echo, non-speech, loops, stock phrases) ─▶ utterances ─▶ turns
    one track (mono): utterances ─▶ voices (diarization) ─▶ operator and customer (timeline.mono)

No queue, database or S3 here, so it can be run and measured on its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from callsight.db.calls_repo import LanguageDecision
from callsight.telemetry import tracer
from callsight_worker import language as lang
from callsight_worker.decode import DecodedAudio, decode
from callsight_worker.engines.base import MultiChannelTranscriber, TranscribeOptions, Transcriber, VocabularyTerm
from callsight_worker.samples import release, spans
from callsight_worker.speech import channels as speech_channels
from callsight_worker.speech.channels import ChannelSpeech, SpeechConfig
from callsight_worker.speech.diarization import MAX_SPEAKERS, DiarizationConfig, Encoder
from callsight_worker.timeline import mono
from callsight_worker.timeline.config import TimelineConfig
from callsight_worker.timeline.guards import GuardReport, guard_words
from callsight_worker.timeline.turns import assemble
from callsight_worker.timeline.utterances import build_utterances
from callsight_worker.timeline.vocabulary_fix import apply_japanese_vocabulary
from callsight_worker.transcript import CUSTOMER, MIXED, OPERATOR, Transcript

log = logging.getLogger(__name__)
_tracer = tracer("callsight.worker")

class ProgressCallback(Protocol):
    """Told each step as it starts, how far it is (0..1), and the audio's length once decoded
    (see callsight_worker.progress)."""

    def __call__(self, step: str, fraction: float, *, audio_s: float | None = None) -> None: ...


def _no_progress(step: str, fraction: float, *, audio_s: float | None = None) -> None:
    return None


def _channel_progress(report: ProgressCallback, done_s: float, channel_s: float, total_s: float) -> Callable[[float], None]:
    """The transcription's fraction, from one channel's: channels weigh what the engine decodes of them."""
    best = 0.0

    def on_channel(fraction: float) -> None:
        nonlocal best
        best = max(best, min(1.0, fraction))  # a re-decoded region never moves it back
        report("transcribe", (done_s + best * channel_s) / total_s if total_s > 0 else 0.0)

    return on_channel


@dataclass(frozen=True)
class CallRequest:
    """What the upload and the organisation say about a call."""

    language: str | None  # asked for on the upload; None: detect it
    default_language: str = "ja-JP"  # the organisation's, when detection is unsure
    operator_channel: str = "left"
    # the organisation's terms: [{"text", "reading", "language"}]; those of the call's language are used
    vocabulary: tuple[dict[str, Any], ...] = ()
    speakers: int = 2  # voices on a one-track recording (1-4)
    qa_form: dict[str, Any] | None = None  # the organisation's form: its phrases tell the operator's voice
    company_names: tuple[str, ...] = ()  # the operator names the company when answering


@dataclass
class PipelineResult:
    audio: DecodedAudio
    transcript: Transcript
    language: LanguageDecision
    warnings: list[dict[str, str]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    speakers: dict[str, Any] = field(default_factory=dict)  # how operator and customer were told apart


def speakers_for(channel_count: int, operator_channel: str) -> list[str]:
    if channel_count == 1:
        return [MIXED]
    return [OPERATOR, CUSTOMER] if operator_channel == "left" else [CUSTOMER, OPERATOR]


def _same_signal(a: np.ndarray, b: np.ndarray) -> bool:
    """Both channels carry the same signal (within 1%), compared block by block."""
    n = min(a.size, b.size)
    if n == 0:
        return True
    diff = level = 0.0
    for start, stop in spans(n):
        x, y = a[start:stop], b[start:stop]
        diff += float(np.sum(np.square(x - y, dtype=np.float64)))
        level += float(np.sum(np.square(x, dtype=np.float64)))
        release(a, start, stop)
        release(b, start, stop)
    return float(np.sqrt(diff / n)) <= max(1e-6, 0.01 * float(np.sqrt(level / n)))


def vocabulary_for(terms: tuple[dict[str, Any], ...] | list[dict[str, Any]], language: str) -> tuple[VocabularyTerm, ...]:
    """The organisation's terms that apply to a call's language (a term without one applies to all)."""
    return tuple(VocabularyTerm(text=str(t["text"]), reading=str(t.get("reading") or ""))
                 for t in terms if t.get("text") and t.get("language") in (None, "", language))


def transcribe_file(
    path: Path, audio_format: str, engine: Transcriber, request: CallRequest,
    detector: lang.LanguageDetector | None = None, max_duration_s: float = 4 * 3600,
    timeline: TimelineConfig | None = None, speech_config: SpeechConfig | None = None,
    options: TranscribeOptions = TranscribeOptions(), progress: ProgressCallback | None = None,
    speaker_encoder: Encoder | None = None,
) -> PipelineResult:
    """`options` carries what the call brings to every channel (job store, engine settings);
    the pipeline adds what it learns per channel (vocabulary of the language, speech regions).
    `progress` is told each step as it starts, and how far the transcription is.
    `speaker_encoder`: voiceprints for telling the voices of a mono track apart (None: a
    mono call stays "mixed")."""
    cfg = timeline or TimelineConfig()
    scfg = speech_config or SpeechConfig()
    timings: dict[str, float] = {}
    tell = progress or _no_progress

    tell("decode", 0.0)
    t0 = time.perf_counter()
    with _tracer.start_as_current_span("decode"):
        audio = decode(path, audio_format, max_duration_s)
    timings["decode"] = time.perf_counter() - t0
    if len(audio.channels) == 2 and _same_signal(audio.channels[0], audio.channels[1]):
        # a mono recording saved as stereo: one voice track, not two speakers
        audio.channels = audio.channels[:1]
    speakers = speakers_for(len(audio.channels), request.operator_channel)

    tell("speech_activity", 0.0, audio_s=audio.duration_s)
    t0 = time.perf_counter()
    with _tracer.start_as_current_span("speech_activity"):
        speech = speech_channels.analyse(audio.channels, scfg)
    timings["speech_activity"] = time.perf_counter() - t0

    tell("language", 0.0)
    t0 = time.perf_counter()
    guess = None
    if detector is not None:
        own_speech = [lang.speech_sample(a, s.own_regions(), lang.LanguageConfig().sample_s)
                      for a, s in zip(audio.channels, speech, strict=True)]
        guess = lang.detect(detector, own_speech)
    decision, warnings = lang.decide(request.language, request.default_language, guess)
    timings["language"] = time.perf_counter() - t0

    tell("transcribe", 0.0)
    t1 = time.perf_counter()
    utterances = []
    reports: dict[str, GuardReport] = {}
    separated: mono.MonoSpeakers | None = None
    model = ""
    regions = [channel.transcription_regions(scfg, audio.duration_s) for channel in speech]
    # what each channel costs the engine: the seconds it decodes (all of it without regions)
    weights = [sum(b - a for a, b in r) if r is not None else audio.duration_s for r in regions]
    total_s, done_s = sum(weights), 0.0
    with _tracer.start_as_current_span("transcribe") as span:
        span.set_attribute("callsight.engine", engine.name)
        span.set_attribute("callsight.audio_seconds", audio.duration_s)
        vocabulary = vocabulary_for(request.vocabulary, decision.language)
        per_channel = [replace(options, vocabulary=vocabulary, source_sample_rate=audio.source_sample_rate,
                               speech_regions=channel_regions,
                               on_progress=_channel_progress(tell, sum(weights[:i]), weights[i], total_s))
                       for i, channel_regions in enumerate(regions)]
        if isinstance(engine, MultiChannelTranscriber):
            # all channels in one go: Whisper batches their speech together
            heard_all = engine.transcribe_channels(list(zip(audio.channels, per_channel, strict=True)), decision.language,
                                                   _channel_progress(tell, 0.0, total_s, total_s))
        else:
            heard_all = []
            for samples, channel_options, weight in zip(audio.channels, per_channel, weights, strict=True):
                heard_all.append(engine.transcribe(samples, decision.language, channel_options))
                done_s += weight
                tell("transcribe", done_s / total_s if total_s > 0 else 1.0)
        for speaker, samples, channel, heard in zip(speakers, audio.channels, speech, heard_all, strict=True):
            model = heard.model
            words, reports[speaker] = guard_words(heard.segments, channel, decision.language, cfg,
                                                  tuple(t.text for t in vocabulary))
            if speaker == MIXED:
                t2 = time.perf_counter()
                with _tracer.start_as_current_span("diarization"):
                    separated = mono.separate(
                        samples, channel, words, decision.language, audio.duration_s, speaker_encoder, cfg,
                        DiarizationConfig(speakers=max(1, min(MAX_SPEAKERS, request.speakers))),
                        request.qa_form, request.company_names)
                said = separated.utterances
                timings["diarization"] = time.perf_counter() - t2
            else:
                said = build_utterances(speaker, words, channel, decision.language, cfg)
            if vocabulary and decision.language.startswith("ja"):
                said = [apply_japanese_vocabulary(t, vocabulary) for t in said]
            utterances += said
    tell("transcribe", 1.0)
    timings["transcribe"] = time.perf_counter() - t1 - timings.get("diarization", 0.0)

    turns = assemble(utterances, decision.language, cfg)
    warnings += _guard_warnings(reports)
    if separated is not None:
        warnings += separated.warnings
        speakers_info = separated.speakers
    else:
        speakers_info = {"method": "channels", "separated": True, "operator_channel": request.operator_channel,
                         "source": "channels"}
    for speaker, report in reports.items():
        if report.dropped:
            log.info("guards dropped words of the %s: %s", speaker, dict(report.dropped))
    transcript = Transcript(
        language=decision.language, engine=engine.name, model=model, duration_s=audio.duration_s,
        speaker_mode=_speaker_mode(len(speakers), speakers_info), turns=turns,
        meta=_meta(cfg, scfg, speakers, speech, reports, decision) | {"speakers": speakers_info},
    )
    return PipelineResult(audio=audio, transcript=transcript, language=decision, warnings=warnings, timings=timings,
                          speakers=speakers_info)


def _speaker_mode(channels: int, speakers: dict[str, Any]) -> str:
    if channels > 1:
        return "stereo"
    return "diarized" if speakers.get("separated") else "mono"


def _guard_warnings(reports: dict[str, GuardReport]) -> list[dict[str, str]]:
    out = []
    for speaker, report in reports.items():
        looped = report.dropped.get("repetition_loop", 0)
        if looped:
            out.append({"code": "repetition_removed", "message": (
                f"The speech recogniser repeated itself on the {speaker}'s side; {looped} repeated words were "
                f"removed. That part of the transcript may be incomplete.")})
    return out


def _meta(cfg: TimelineConfig, scfg: SpeechConfig, speakers: list[str], speech: list[ChannelSpeech],
          reports: dict[str, GuardReport], decision: LanguageDecision) -> dict[str, Any]:
    return {
        "timeline": cfg.to_dict(),
        "speech": scfg.to_dict(),
        "language": {"source": decision.source, "detected": decision.detected, "confidence": decision.confidence},
        "channels": {
            speaker: {
                "leak": channel.leak.to_dict() if channel.leak else None,
                "own_speech_s": round(float(channel.own.sum()) * 0.01, 2),
                "noise_floor_db": round(channel.noise_floor_db, 1),
                "guards": reports[speaker].to_dict() if speaker in reports else {},
            }
            for speaker, channel in zip(speakers, speech, strict=True)
        },
    }
