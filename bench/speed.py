"""Speed and memory of the worker's pipeline on real-speech calls (issue 16), in process.

    .venv/bin/python -m bench --only speed,ways,memory4h [--minutes 1,5,30]

Calls come from `bench.calls` (the turn-timeline benchmark's generator: Allison's prompts as
the operator, a spontaneous, disfluent speaker as the customer, backchannels, interruptions,
a hold silence; -30 dB echo both ways, G.711 μ-law 8 kHz stereo WAV). A call longer than the
clip pools reuses their clips in a new order. The 4-hour call is the 5-minute call eight
times, each followed by 25 minutes of line noise (a long hold): 40 minutes of speech in 4 h.
"""

from __future__ import annotations

import hashlib
import json
import resource
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from bench.calls import pools, render, score, script
from bench.system import MB, Figure
from callsight_worker.analysis.metrics import compute_metrics
from callsight_worker.cpus import available_cpus
from callsight_worker.decode import decode
from callsight_worker.engines.base import SAMPLE_RATE, Audio, ChannelTranscript, TranscribeOptions
from callsight_worker.engines.whisper import LOW_LOGPROB, NO_SPEECH_PROB, WhisperTranscriber
from callsight_worker.model import MODEL_NAME, default_model_dir
from callsight_worker.pipeline import CallRequest, transcribe_file
from callsight_worker.speech import channels as speech_channels
from callsight_worker.speech import crosstalk
from callsight_worker.timeline.config import TimelineConfig

DATA = Path(__file__).parent / "data" / "speed"
LINES_PER_MINUTE = 11.5  # main lines of the generated script per minute of call


def real_call(minutes: float, out: Path = DATA) -> tuple[Path, dict[str, Any]]:
    """A stereo real-speech call of about `minutes`, rendered again only when its script changed
    (the rendered file is kept beside a fingerprint of the script it came from)."""
    name = f"speed-{minutes:g}min"
    path = out / f"{name}.echo30-ulaw.wav"
    truth = path.with_suffix(".truth.json")
    s = script.generate(name, pools.english_michael(), seed=11, lines=max(16, round(minutes * LINES_PER_MINUTE)))
    print_ = hashlib.sha256(repr([(p.speaker, p.clip.key, round(p.start, 3), p.kind) for p in s.placements])
                            .encode()).hexdigest()
    stamp = path.with_suffix(".script")
    if path.exists() and truth.exists() and stamp.exists() and stamp.read_text() == print_:
        return path, json.loads(truth.read_text())
    rendered = render.render(s, render.CONDITIONS["echo30-ulaw"], out, seed=3, pause_s=TimelineConfig().pause_s)
    stamp.write_text(print_)
    return rendered


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _engine() -> WhisperTranscriber:
    return WhisperTranscriber(default_model_dir(), threads=available_cpus())


def _score(truth: dict[str, Any], result: Any) -> tuple[float, float]:
    """(mean per-side WER %, echo-leak % of words) of a pipeline result."""
    s = score.score_call(truth, result.transcript.to_dict(), compute_metrics(result.transcript).to_dict())
    return 100 * sum(s.error_rate.values()) / len(s.error_rate), 100 * s.leaked_words / max(1, s.words)


def pipeline(minutes: list[float]) -> Iterator[Figure]:
    """The worker's pipeline on each call length: wall, RTF, steps, CPU, audio-hours per CPU-hour."""
    engine = _engine()
    for m in minutes:
        path, truth = real_call(m)
        cpu0, t0 = cpu_seconds(), time.perf_counter()
        result = transcribe_file(path, "wav", engine, CallRequest(language="en-US"))
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
        audio_s = result.audio.duration_s
        wer, leaks = _score(truth, result)
        cmd = f"python -m bench --only speed --minutes {m:g}"
        label = f"{audio_s / 60:.1f}-min call"
        yield Figure("Speed", f"{label}: pipeline wall time ({available_cpus()} threads)", wall, "s", cmd)
        yield Figure("Speed", f"{label}: pipeline real-time factor", wall / audio_s, "x", cmd)
        for step in ("decode", "speech_activity", "transcribe"):
            yield Figure("Speed", f"{label}: step {step}", result.timings.get(step, 0.0), "s", cmd)
        yield Figure("Speed", f"{label}: audio hours per CPU hour", audio_s / cpu, "x", cmd)
        yield Figure("Speed", f"{label}: per-side WER (mean of the two sides)", wer, "%", cmd)
        yield Figure("Speed", f"{label}: words on the wrong side (echo leaks)", leaks, "% of words", cmd)


def comparison(minutes: float = 5.0, runs: int = 4) -> Iterator[Figure]:
    """Our pipeline against plain faster-whisper batched on the same call mixed to mono.

    Like for like: both start from the file (plain decodes it with faster-whisper's own
    `decode_audio`, mixed to mono), the same model, int8, threads, beam 5, batch 4,
    temperature 0, word timestamps, no timestamp tokens, the same no-speech and
    log-probability thresholds. What differs: plain finds speech with faster-whisper's Silero
    VAD on the mix and decodes it once (overlapping speech once, as one voice); ours decodes
    the call, measures both channels' speech and echo, decodes each side's own speech, and
    builds guarded utterances and turns. How many words each returns is printed beside the
    times: the work of decoding grows with them. A second baseline is plain faster-whisper on
    each channel on its own (what a stereo call costs without echo suppression: each side's
    speech and the other side's echo are decoded). Runs alternate (best of `runs` each), so
    all see the same machine load.
    """
    from faster_whisper import BatchedInferencePipeline, WhisperModel, decode_audio

    path, truth = real_call(minutes)
    threads = available_cpus()
    engine = WhisperTranscriber(default_model_dir(), threads=threads)
    plain = BatchedInferencePipeline(WhisperModel(str(default_model_dir()), device="cpu", compute_type="int8",
                                                  cpu_threads=threads, num_workers=1))
    options: dict[str, Any] = dict(language="en", task="transcribe", beam_size=engine.beam_size, word_timestamps=True,
                                   without_timestamps=True, batch_size=engine.batch_size, vad_filter=True,
                                   log_prob_threshold=LOW_LOGPROB, no_speech_threshold=NO_SPEECH_PROB, temperature=0.0)
    ours, theirs, ours_cpu, theirs_cpu, split_cpu = [], [], [], [], []
    ours_words = theirs_words = 0
    for _ in range(runs):
        cpu0, t0 = cpu_seconds(), time.perf_counter()
        result = transcribe_file(path, "wav", engine, CallRequest(language="en-US"))
        ours.append(time.perf_counter() - t0)
        ours_cpu.append(cpu_seconds() - cpu0)
        ours_words = sum(len(turn.text.split()) for turn in result.transcript.turns)
        cpu0, t0 = cpu_seconds(), time.perf_counter()
        segments, _ = plain.transcribe(str(path), **options)
        theirs_words = sum(len(seg.text.split()) for seg in segments)
        theirs.append(time.perf_counter() - t0)
        theirs_cpu.append(cpu_seconds() - cpu0)
        cpu0 = cpu_seconds()
        for channel in decode_audio(str(path), split_stereo=True):
            segments, _ = plain.transcribe(channel, **options)
            list(segments)
        split_cpu.append(cpu_seconds() - cpu0)
    cmd = "python -m bench --only comparison"
    label = f"{result.audio.duration_s / 60:.1f}-min call"
    said = sum(len(text.split()) for text in truth["text"].values())
    yield Figure("Comparison", f"{label}: Callsight pipeline, file to turns (best of {runs})", min(ours), "s", cmd)
    yield Figure("Comparison", f"{label}: plain faster-whisper batched on the mono mix, file to segments (best of {runs})",
                 min(theirs), "s", cmd)
    yield Figure("Comparison", "Callsight pipeline / plain faster-whisper (wall time)", min(ours) / min(theirs), "x", cmd)
    yield Figure("Comparison", "Callsight pipeline / plain faster-whisper (wall time, median of the runs)",
                 float(np.median(ours) / np.median(theirs)), "x", cmd)
    # the CPU seconds each spends do not depend on what else the machine runs
    yield Figure("Comparison", "Callsight pipeline / plain faster-whisper (CPU time, best of each)",
                 min(ours_cpu) / min(theirs_cpu), "x", cmd)
    yield Figure("Comparison", f"words returned: Callsight pipeline (of {said} said)", ours_words, "words", cmd)
    yield Figure("Comparison", f"words returned: plain faster-whisper on the mono mix (of {said} said)", theirs_words,
                 "words", cmd)
    yield Figure("Comparison", "Callsight pipeline / plain faster-whisper, CPU time per word returned",
                 (min(ours_cpu) / max(1, ours_words)) / (min(theirs_cpu) / max(1, theirs_words)), "x", cmd)
    yield Figure("Comparison", "Callsight pipeline / plain faster-whisper on each channel on its own (CPU time)",
                 min(ours_cpu) / min(split_cpu), "x", cmd)


class SequentialWhisper(WhisperTranscriber):
    """The engine as before the batched pass: each channel's regions on their own, in Whisper's
    sequential 30 s windows, with temperature fallback (`temperatures`)."""

    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4)

    def transcribe_channels(self, channels: list[tuple[Audio, TranscribeOptions]], language: str,
                            on_progress: Callable[[float], None] | None = None) -> list[ChannelTranscript]:
        out = []
        for audio, options in channels:
            heard = ChannelTranscript(language=language, engine=self.name, model=MODEL_NAME)
            if options.speech_regions:
                heard.segments.extend(self._decode(audio, language, options, options.speech_regions,
                                                   temperature=self.temperatures))
            out.append(heard)
        return out


def ways(minutes: float = 5.0) -> Iterator[Figure]:
    """The ways in of the issue, each on the same call through the whole pipeline: time, CPU, accuracy."""
    path, truth = real_call(minutes)
    cmd = "python -m bench --only ways"
    threads = available_cpus()
    batched = WhisperTranscriber(default_model_dir(), threads=threads)
    one_lane = WhisperTranscriber(default_model_dir(), threads=threads, lanes=1)
    # before this issue: one model on all the threads, each channel on its own
    sequential = SequentialWhisper(default_model_dir(), threads=threads, lanes=1)
    kept = (f"batched (kept): beam 5, batch 4 over {batched.lanes} lane(s) of {max(1, threads // batched.lanes)} "
            "thread(s), temperature 0, word timestamps")
    before = "sequential per channel, fallbacks 0/0.2/0.4 (before this issue)"
    variants: list[tuple[str, WhisperTranscriber, dict[str, Any]]] = [
        (kept, batched, {}),
        (f"batched, one lane of {threads} threads, batch 4", one_lane, {}),
        (f"batched, batch 8 over {batched.lanes} lane(s)", batched, {"batch_size": 8}),
        ("batched, beam 1 (greedy)", batched, {"beam_size": 1}),
        (before, sequential, {}),
        ("sequential per channel, no fallbacks", sequential, {"temperatures": (0.0,)}),
    ]
    throughput: dict[str, float] = {}
    for label, engine, change in variants:
        saved = {k: getattr(engine, k) for k in change}
        for k, v in change.items():
            setattr(engine, k, v)
        try:
            cpu0, t0 = cpu_seconds(), time.perf_counter()
            result = transcribe_file(path, "wav", engine, CallRequest(language="en-US"))
            wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
        finally:
            for k, v in saved.items():
                setattr(engine, k, v)
        wer, leaks = _score(truth, result)
        throughput[label] = result.audio.duration_s / cpu
        yield Figure("Ways", f"{label}: pipeline wall time", wall, "s", cmd)
        yield Figure("Ways", f"{label}: audio hours per CPU hour", throughput[label], "x", cmd)
        yield Figure("Ways", f"{label}: per-side WER (mean of the two sides)", wer, "%", cmd)
        yield Figure("Ways", f"{label}: words on the wrong side (echo leaks)", leaks, "% of words", cmd)
    yield Figure("Ways", "throughput, batched / sequential before this issue (audio hours per CPU hour)",
                 throughput[kept] / throughput[before], "x", cmd)

    # transcription alone: what word timestamps cost, and what decoding the echo too would cost
    decoded = decode(path, "wav", 4 * 3600)
    speech = speech_channels.analyse(decoded.channels)
    scfg = speech_channels.SpeechConfig()
    own = [c.transcription_regions(scfg, decoded.duration_s) for c in speech]
    heard = [_padded(crosstalk.regions(c.heard), scfg, decoded.duration_s) for c in speech]

    def transcribe(regions: list[tuple[tuple[float, float], ...]]) -> float:
        t0 = time.perf_counter()
        batched.transcribe_channels([(a, replace(TranscribeOptions(), speech_regions=r))
                                     for a, r in zip(decoded.channels, regions, strict=True)], "en-US")
        return time.perf_counter() - t0

    own_s, heard_s = (sum(b - a for r in x for a, b in r) for x in (own, heard))
    with_words = transcribe(own)
    yield Figure("Ways", f"transcription of the own-speech regions ({own_s:.0f} s, kept)", with_words, "s", cmd)
    yield Figure("Ways", f"transcription of VAD-only regions, echo included ({heard_s:.0f} s)", transcribe(heard), "s", cmd)
    batched.word_timestamps = False
    try:
        without = transcribe(own)
    finally:
        batched.word_timestamps = True
    yield Figure("Ways", "transcription without word timestamps (the timeline needs them)", without, "s", cmd)
    yield Figure("Ways", "cost of word timestamps (with / without)", with_words / without, "x", cmd)


def _padded(regions: list[tuple[float, float]], cfg: speech_channels.SpeechConfig, duration_s: float
            ) -> tuple[tuple[float, float], ...]:
    joined: list[list[float]] = []
    for a, b in regions:
        a, b = max(0.0, a - cfg.region_pad_s), min(duration_s, b + cfg.region_pad_s)
        if joined and a - joined[-1][1] < cfg.region_join_gap_s:
            joined[-1][1] = max(joined[-1][1], b)
        else:
            joined.append([a, b])
    return tuple((a, b) for a, b in joined)


def four_hour_call(out: Path = DATA, repeats: int = 8, hold_min: float = 25.0) -> Path:
    """The 5-minute call, then `hold_min` of line noise, `repeats` times: a 16-bit 8 kHz stereo WAV."""
    path = out / "speed-4h.wav"
    call, _ = real_call(5.0)
    if path.exists() and path.stat().st_mtime >= call.stat().st_mtime:  # made from this 5-minute call
        return path
    import av

    with av.open(str(call)) as container:
        resampler = av.AudioResampler(format="s16p", layout="stereo", rate=8000)
        parts = [f.to_ndarray() for frame in container.decode(audio=0) for f in resampler.resample(frame)]
    speech = np.concatenate(parts, axis=1)
    rng = np.random.default_rng(1)
    tmp = path.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        for _ in range(repeats):
            w.writeframes(np.ascontiguousarray(speech.T).astype("<i2").tobytes())
            for _ in range(int(hold_min)):
                noise = (rng.standard_normal((8000 * 60, 2)) * 16).astype("<i2")  # about -66 dBFS
                w.writeframes(noise.tobytes())
    tmp.replace(path)
    return path


def memory_4h() -> Iterator[Figure]:
    """Peak RSS of a process that runs the pipeline on the 4-hour call (sampled every 0.2 s)."""
    path = four_hour_call()
    child = subprocess.Popen([sys.executable, "-m", "bench.speed", "--pipeline", str(path)],
                             stdout=subprocess.PIPE, text=True)
    proc = psutil.Process(child.pid)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            try:
                peak[0] = max(peak[0], proc.memory_info().rss)
            except psutil.Error:
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = child.communicate()
    done.set()
    sampler.join()
    if child.returncode != 0:
        raise RuntimeError(f"the 4-hour pipeline failed ({child.returncode})")
    report = json.loads(out.strip().splitlines()[-1])
    cmd = "python -m bench --only memory4h"
    label = f"{report['audio_s'] / 3600:.1f}-h stereo call ({report['speech_s'] / 60:.0f} min of speech)"
    yield Figure("Memory", f"{label}: worker peak RSS (sampled)", peak[0] / MB, "MB", cmd)
    yield Figure("Memory", f"{label}: worker peak RSS (VmHWM)", report["maxrss_mb"], "MB", cmd)
    yield Figure("Memory", f"{label}: RSS with the model loaded, before the call", report["idle_mb"], "MB", cmd)
    yield Figure("Memory", f"{label}: pipeline wall time", report["wall_s"], "s", cmd)
    yield Figure("Memory", f"{label}: decoded channels on disk (temp files)", report["disk_mb"], "MB", cmd)


def _peak_rss_mb() -> float:
    """This process's peak RSS since it started its program (VmHWM). getrusage's maxrss is kept
    across exec, so a child forked from a bench process that had just built the 4-hour call in
    memory reported the parent's 5 GB as its own."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_pipeline(path: Path) -> None:
    engine = _engine()
    idle = psutil.Process().memory_info().rss / MB
    t0 = time.perf_counter()
    result = transcribe_file(path, "wav", engine, CallRequest(language="en-US"))
    wall = time.perf_counter() - t0
    speech_s = sum(float(c["own_speech_s"]) for c in result.transcript.meta["channels"].values())
    print(json.dumps({"audio_s": result.audio.duration_s, "wall_s": wall, "idle_mb": idle, "speech_s": speech_s,
                      "maxrss_mb": _peak_rss_mb(),
                      "disk_mb": len(result.audio.channels) * result.audio.duration_s * SAMPLE_RATE * 4 / MB}))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--pipeline":
        _run_pipeline(Path(sys.argv[2]))
    else:
        print("usage: python -m bench.speed --pipeline CALL.wav  (prints its timings and memory as JSON)")
