"""Voiceprints: a 256-number speaker embedding of a stretch of speech, offline, on CPU.

The model is Resemblyzer's GE2E speaker encoder (PyPI `Resemblyzer` 0.1.4, Apache-2.0:
3-layer LSTM over 40-band mel frames, weights inside the wheel). We chose it over the
other candidates by measurement (docs/diarization.md). Its package would pull in torch
and librosa; we need neither: `prepare` takes the weights out of the hash-pinned wheel
once (image build, `make install`) and stores them as plain numpy arrays, and the
forward pass below is the same LSTM in numpy. Nothing is downloaded at run time.

    python -m callsight_worker.speech.speaker_encoder prepare --dir DIR
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections import OrderedDict
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from callsight_worker.speech.blas import blas_threads
from callsight_worker.speech.mel import power_mel

PACKAGE = "Resemblyzer==0.1.4"
WHEEL_SHA256 = "8f12eb2f1a9982d32e8db7856de754709b59c93a77bcf0ff536584b619a9dd1f"
WEIGHTS_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
WEIGHTS_FILE = "resemblyzer-ge2e.npz"
MODEL_NAME = "resemblyzer-ge2e-0.1.4"

SAMPLE_RATE = 16_000
N_MELS = 40
HIDDEN = 256
LAYERS = 3
WINDOW_FRAMES = 160  # 1.6 s: the partial utterance the encoder was trained on
TARGET_DBFS = -30.0  # quiet speech is raised to this level, as in training
BATCH = 64  # windows per LSTM pass: fastest per window on one core (bench), ~25 MB of activations
GATE_CHUNK = 16  # steps whose input projection is computed at once (see SpeakerEncoder._lstm)

Embeddings = npt.NDArray[np.float32]


class SpeakerModelError(RuntimeError):
    pass


def default_dir(cache_root: str | Path | None = None) -> Path:
    """The model's place in the cache (the worker's CALLSIGHT_MODEL_CACHE, default ~/.cache/callsight);
    the worker's CALLSIGHT_SPEAKER_MODEL_DIR overrides it (see WorkerSettings)."""
    return Path(cache_root or Path.home() / ".cache" / "callsight") / "models" / "speaker-encoder"


# ---- preparing the weights (install time) ---------------------------------------------------


def _legacy_torch_tensors(raw: bytes) -> dict[str, npt.NDArray[np.float32]]:
    """The float tensors of a legacy (pre-zip) torch checkpoint, read without torch.

    Layout: three small pickles (magic, protocol, system info), the state pickle whose
    tensors point at storages by key, the list of storage keys, then each storage's
    element count (int64) and raw little-endian data, in that order.
    """
    f = io.BytesIO(raw)
    counts: dict[str, int] = {}
    tensors: dict[str, tuple[str, int, tuple[int, ...], tuple[int, ...]]] = {}

    class Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            if module == "torch" and name == "FloatStorage":
                return name
            if module == "torch._utils" and name == "_rebuild_tensor_v2":
                return lambda key, offset, size, stride, *_: (key, offset, tuple(size), tuple(stride))
            if module == "collections" and name == "OrderedDict":
                return OrderedDict
            raise SpeakerModelError(f"unexpected object in the speaker model: {module}.{name}")

        def persistent_load(self, pid: Any) -> Any:
            _, storage_type, key, _, numel, _ = pid
            if storage_type != "FloatStorage":
                raise SpeakerModelError(f"unexpected storage {storage_type}")
            counts[key] = int(numel)
            return key

    for _ in range(3):
        pickle.load(f)  # noqa: S301 - the file's sha256 is checked before this
    state = Unpickler(f).load()
    state = state.get("model_state", state)
    tensors = {name: value for name, value in state.items()}
    storages: dict[str, npt.NDArray[np.float32]] = {}
    for key in pickle.load(f):  # noqa: S301
        (n,) = struct.unpack("<q", f.read(8))
        storages[key] = np.frombuffer(f.read(4 * n), dtype="<f4")
    out = {}
    for name, (key, offset, size, stride) in tensors.items():
        data = storages[key]
        out[name] = np.lib.stride_tricks.as_strided(
            data[offset:], shape=size, strides=[s * 4 for s in stride]).astype(np.float32)
    return out


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def prepare(target: Path, wheel: Path | None = None) -> Path:
    """Weights from the Resemblyzer wheel (downloaded by pip, hash-pinned) into `target`."""
    target.mkdir(parents=True, exist_ok=True)
    out = target / WEIGHTS_FILE
    if out.exists():
        return out
    with tempfile.TemporaryDirectory() as tmp:
        if wheel is None:
            pins = Path(tmp) / "pins.txt"
            pins.write_text(f"{PACKAGE} --hash=sha256:{WHEEL_SHA256}\n")
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--require-hashes",
                            "--only-binary", ":all:", "-r", str(pins), "-d", tmp], check=True)
            wheel = next(Path(tmp).glob("*.whl"))
        if _sha256(wheel.read_bytes()) != WHEEL_SHA256:
            raise SpeakerModelError(f"{wheel.name}: not the pinned {PACKAGE} wheel")
        with zipfile.ZipFile(wheel) as z:
            raw = z.read("resemblyzer/pretrained.pt")
    if _sha256(raw) != WEIGHTS_SHA256:
        raise SpeakerModelError("resemblyzer/pretrained.pt: sha256 mismatch")
    weights = _legacy_torch_tensors(raw)
    partial = target / f".{WEIGHTS_FILE}.{os.getpid()}.npz"
    np.savez(partial, allow_pickle=False, **weights)
    os.replace(partial, out)
    return out


# ---- the encoder (run time) ------------------------------------------------------------------


def _sigmoid(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return np.float32(0.5) * (np.float32(1.0) + np.tanh(np.float32(0.5) * x))


class SpeakerEncoder:
    """Embeddings of speech segments (16 kHz float32), L2-normalised, shape (n, 256)."""

    name = MODEL_NAME

    def __init__(self, weights: Path, threads: int | None = None) -> None:
        self.threads = threads
        if not weights.exists():
            raise SpeakerModelError(
                f"speaker model {weights} missing: run `python -m callsight_worker.speech.speaker_encoder prepare`")
        with np.load(weights, allow_pickle=False) as z:
            w = {k: z[k].astype(np.float32) for k in z.files}
        # torch's gate order (input, forget, cell, output) to (input, forget, output, cell)
        order = np.concatenate([np.arange(k * HIDDEN, (k + 1) * HIDDEN) for k in (0, 1, 3, 2)])
        self.w_ih = [w[f"lstm.weight_ih_l{i}"][order].T.copy() for i in range(LAYERS)]
        self.w_hh = [w[f"lstm.weight_hh_l{i}"][order].T.copy() for i in range(LAYERS)]
        self.bias = [(w[f"lstm.bias_ih_l{i}"] + w[f"lstm.bias_hh_l{i}"])[order] for i in range(LAYERS)]
        self.linear_w = w["linear.weight"].T.copy()
        self.linear_b = w["linear.bias"]

    @staticmethod
    def features(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Mel frames (n, 40) of a segment, raised to the training level when quiet."""
        gain = SpeakerEncoder.level_gain(samples)
        if gain > 1:
            samples = samples * np.float32(gain)
        return power_mel(samples, SAMPLE_RATE, n_fft=400, win_length=400, hop=160, n_mels=N_MELS)

    @staticmethod
    def level_gain(samples: npt.NDArray[np.float32]) -> float:
        """The gain `features` applies to a segment: up to the training level, never down (1.0)."""
        rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0
        if rms <= 0:
            return 1.0
        return max(1.0, float(10 ** ((TARGET_DBFS - 20 * np.log10(rms)) / 20)))

    def _lstm(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Last hidden state of the top layer, for a batch (b, frames, 40).

        Time-major inside, with the gates reordered to (input, forget, output, cell): each
        step is one matrix product, one sigmoid over three gates and two tanh. The input
        projection is computed `GATE_CHUNK` steps at a time into one small buffer: projecting
        every step at once took 42 MB per layer, freshly mapped and faulted in on every call
        right after Whisper had handed its heap back (0.15 s of a 77-s call's 0.4 s)."""
        seq = np.ascontiguousarray(x.transpose(1, 0, 2))  # (frames, b, features)
        steps, batch = seq.shape[0], seq.shape[1]
        gates = np.empty((min(GATE_CHUNK, steps), batch, 4 * HIDDEN), dtype=np.float32)
        layer_out = [np.empty((steps, batch, HIDDEN), dtype=np.float32) for _ in range(min(2, LAYERS - 1))]
        h = np.zeros((batch, HIDDEN), dtype=np.float32)
        for layer in range(LAYERS):
            h = np.zeros((batch, HIDDEN), dtype=np.float32)
            c = np.zeros_like(h)
            outputs = None if layer == LAYERS - 1 else layer_out[layer % 2]
            for first in range(0, steps, GATE_CHUNK):
                n = min(GATE_CHUNK, steps - first)
                np.matmul(seq[first:first + n], self.w_ih[layer], out=gates[:n])
                gates[:n] += self.bias[layer]
                for t in range(n):
                    g = gates[t] + h @ self.w_hh[layer]
                    sig = _sigmoid(g[:, :3 * HIDDEN])
                    c = sig[:, HIDDEN:2 * HIDDEN] * c + sig[:, :HIDDEN] * np.tanh(g[:, 3 * HIDDEN:])
                    h = sig[:, 2 * HIDDEN:] * np.tanh(c)
                    if outputs is not None:
                        outputs[first + t] = h
            if outputs is not None:
                seq = outputs
        return h

    def embed(self, segments: Sequence[npt.NDArray[np.float32]]) -> Embeddings:
        """One embedding per segment: the mean of its 1.6 s windows' (half overlapping)."""
        return self.embed_features([self.features(samples) for samples in segments])

    def embed_features(self, mels: Sequence[npt.NDArray[np.float32]]) -> Embeddings:
        """`embed` from each segment's mel frames (`features`), computed once by the caller.

        All the segments' windows go through the LSTM together, `BATCH` at a time: one
        matrix product per step for many windows instead of one per window, and memory
        bounded on a 4-hour call. numpy's BLAS runs on at most `threads` cores.
        """
        if not mels:
            return np.zeros((0, HIDDEN), dtype=np.float32)
        windows, owners = windows_of(mels)
        partial = np.empty((len(windows), HIDDEN), dtype=np.float32)
        with blas_threads(self.threads):
            for start in range(0, len(windows), BATCH):
                hidden = self._lstm(np.stack(windows[start:start + BATCH]))
                partial[start:start + BATCH] = np.maximum(0.0, hidden @ self.linear_w + self.linear_b)
        partial /= np.linalg.norm(partial, axis=1, keepdims=True) + 1e-9
        sums = np.zeros((len(mels), HIDDEN), dtype=np.float32)
        np.add.at(sums, owners, partial)
        out = sums / np.bincount(owners, minlength=len(mels))[:, None]
        return (out / (np.linalg.norm(out, axis=1, keepdims=True) + 1e-9)).astype(np.float32)


def windows_of(mels: Sequence[npt.NDArray[np.float32]]) -> tuple[list[npt.NDArray[np.float32]], npt.NDArray[np.intp]]:
    """The encoder's 1.6 s windows of each segment (half overlapping; a short segment padded
    with silence to one window), and the segment each window belongs to."""
    windows: list[npt.NDArray[np.float32]] = []
    owner: list[int] = []
    step = WINDOW_FRAMES // 2
    for index, mel in enumerate(mels):
        if mel.shape[0] < WINDOW_FRAMES:
            mel = np.concatenate([mel, np.zeros((WINDOW_FRAMES - mel.shape[0], N_MELS), np.float32)])
        for start in range(0, max(1, mel.shape[0] - WINDOW_FRAMES + step), step):
            window = mel[start:start + WINDOW_FRAMES]
            if window.shape[0] == WINDOW_FRAMES:
                windows.append(window)
                owner.append(index)
    return windows, np.asarray(owner, dtype=np.intp)


@cache
def load(model_dir: str | None = None, threads: int | None = None) -> SpeakerEncoder:
    """The encoder of `model_dir` (default `default_dir()`), loaded once per process;
    `threads`: the cores its matrix products may use (None: numpy's default, every core)."""
    return SpeakerEncoder(Path(model_dir or default_dir()) / WEIGHTS_FILE, threads)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m callsight_worker.speech.speaker_encoder")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="take the speaker model's weights out of its PyPI wheel")
    p.add_argument("--dir", type=Path, default=None)
    p.add_argument("--wheel", type=Path, default=None, help="a downloaded Resemblyzer 0.1.4 wheel")
    args = parser.parse_args(argv)
    path = prepare(args.dir or default_dir(), args.wheel)
    print(f"speaker model: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
