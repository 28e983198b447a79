"""The speaker encoder's batched pass gives each segment the voiceprint it gets alone.

The encoder runs every window of a call through its LSTM `BATCH` windows at a time, with
its gates reordered for speed; these checks use random weights of the model's shape
(the arithmetic, not the model: real speech is in tests/integration/test_mono_real_speech.py)
against a plain per-window LSTM written the way torch defines it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from threadpoolctl import threadpool_info

from callsight_worker.speech import speaker_encoder as se
from callsight_worker.speech.blas import blas_threads
from callsight_worker.speech.diarization import DiarizationConfig, cluster, spectral_profiles
from callsight_worker.speech.mel import power_mel

pytestmark = pytest.mark.unit


Weights = dict[str, npt.NDArray[np.float32]]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> tuple[se.SpeakerEncoder, Weights]:
    rng = np.random.default_rng(7)
    weights: Weights = {}
    for layer in range(se.LAYERS):
        width = se.N_MELS if layer == 0 else se.HIDDEN
        weights[f"lstm.weight_ih_l{layer}"] = rng.normal(0, 0.08, (4 * se.HIDDEN, width)).astype(np.float32)
        weights[f"lstm.weight_hh_l{layer}"] = rng.normal(0, 0.08, (4 * se.HIDDEN, se.HIDDEN)).astype(np.float32)
        weights[f"lstm.bias_ih_l{layer}"] = rng.normal(0, 0.1, 4 * se.HIDDEN).astype(np.float32)
        weights[f"lstm.bias_hh_l{layer}"] = rng.normal(0, 0.1, 4 * se.HIDDEN).astype(np.float32)
    weights["linear.weight"] = rng.normal(0, 0.08, (se.HIDDEN, se.HIDDEN)).astype(np.float32)
    weights["linear.bias"] = rng.normal(0, 0.1, se.HIDDEN).astype(np.float32)
    path = Path(tmp_path_factory.mktemp("encoder")) / se.WEIGHTS_FILE
    np.savez(path, **weights)  # type: ignore[arg-type]  # numpy's stub wants one array type per keyword
    return se.SpeakerEncoder(path, threads=1), weights


@pytest.fixture(scope="module")
def encoder(model: tuple[se.SpeakerEncoder, Weights]) -> se.SpeakerEncoder:
    return model[0]


def _torch_lstm_last(weights: Weights, window: npt.NDArray[np.float32]) -> np.ndarray:
    """torch.nn.LSTM's last top-layer hidden state for one window, gate order (i, f, g, o)."""
    seq = window.astype(np.float64)
    h = np.zeros(se.HIDDEN)
    for layer in range(se.LAYERS):
        w_ih, w_hh = weights[f"lstm.weight_ih_l{layer}"], weights[f"lstm.weight_hh_l{layer}"]
        b = weights[f"lstm.bias_ih_l{layer}"] + weights[f"lstm.bias_hh_l{layer}"]
        h, c, out = np.zeros(se.HIDDEN), np.zeros(se.HIDDEN), []
        for x in seq:
            i, f, g, o = np.split(w_ih @ x + w_hh @ h + b, 4)
            c = 1 / (1 + np.exp(-f)) * c + 1 / (1 + np.exp(-i)) * np.tanh(g)
            h = 1 / (1 + np.exp(-o)) * np.tanh(c)
            out.append(h)
        seq = np.array(out)
    return h


def _mels(seed: int, lengths: list[int]) -> list[npt.NDArray[np.float32]]:
    rng = np.random.default_rng(seed)
    return [rng.gamma(1.0, 0.05, (n, se.N_MELS)).astype(np.float32) for n in lengths]


def test_the_lstm_is_torchs_lstm_with_its_gates_reordered(model: tuple[se.SpeakerEncoder, Weights]) -> None:
    encoder, weights = model
    windows = np.stack(_mels(1, [se.WINDOW_FRAMES] * 3))
    batched = encoder._lstm(windows)
    for window, row in zip(windows, batched, strict=True):
        np.testing.assert_allclose(row, _torch_lstm_last(weights, window), atol=2e-5)


def test_batched_voiceprints_equal_each_segments_own(encoder: se.SpeakerEncoder,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # short (padded), one-window, several-window and long segments; batches of 3 windows
    # split a segment's windows over two passes
    mels = _mels(2, [30, 160, 161, 240, 400, 90, 700, 160, 5])
    alone = np.stack([encoder.embed_features([m])[0] for m in mels])
    monkeypatch.setattr(se, "BATCH", 3)
    together = encoder.embed_features(mels)
    assert together.shape == (len(mels), se.HIDDEN)
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert encoder.embed_features([]).shape == (0, se.HIDDEN)


def test_each_segment_gets_its_windows_and_a_short_one_is_padded_to_one() -> None:
    windows, owners = se.windows_of(_mels(3, [40, 160, 400, 300]))
    # 400 frames: windows at 0, 80, 160, 240; 300 frames: at 0 and 80 (the one at 160
    # would hold 140 frames: left out, its frames are in the window before)
    assert owners.tolist() == [0, 1, 2, 2, 2, 2, 3, 3]
    assert all(w.shape == (se.WINDOW_FRAMES, se.N_MELS) for w in windows)
    assert not windows[0][40:].any()


def test_the_encoder_runs_blas_on_the_threads_it_is_given() -> None:
    def blas() -> set[int]:
        return {int(lib["num_threads"]) for lib in threadpool_info() if lib["user_api"] == "blas"}

    before = blas()
    with blas_threads(1):
        assert blas() == {1}
    assert blas() == before
    with blas_threads(None):
        assert blas() == before


def test_a_long_calls_voices_are_found_from_a_spread_of_its_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    from callsight_worker.speech import diarization

    seen: list[int] = []
    agglomerate = diarization._agglomerate

    def spy(similarity: np.ndarray, k: int) -> np.ndarray:
        seen.append(similarity.shape[0])
        return agglomerate(similarity, k)

    monkeypatch.setattr(diarization, "MAX_AGGLOMERATED", 40)
    monkeypatch.setattr(diarization, "_agglomerate", spy)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=32), rng.normal(size=32)
    # 300 segments: voice a, then b, then a again (turns), each a little noisy
    owner = np.array([0] * 100 + [1] * 120 + [0] * 80)
    e = np.array([(a if o == 0 else b) + rng.normal(0, 0.3, 32) for o in owner], dtype=np.float32)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    labels, centroids = cluster(e, np.full(owner.size, 1.5), DiarizationConfig())
    assert seen == [40]
    assert centroids.shape[0] == 2
    assert (labels == owner).all() or (labels == 1 - owner).all()


def test_profiles_from_the_encoders_raised_frames_are_those_of_the_segments_as_recorded() -> None:
    # the mel frames are computed once, raised to the encoder's level; the profiles must
    # not change with that gain (quiet segments: the log's floor matters there)
    rng = np.random.default_rng(5)
    t = np.arange(16000) / 16000
    segments = [(level * (np.sin(2 * np.pi * f * t) + 0.01 * rng.standard_normal(t.size))).astype(np.float32)
                for level, f in ((3e-5, 300.0), (1e-4, 900.0), (0.3, 300.0), (2e-5, 2000.0), (0.05, 600.0))]
    encoder = se.SpeakerEncoder
    gains = [encoder.level_gain(x) for x in segments]
    assert gains[0] > 100 and gains[2] == 1.0
    raised = spectral_profiles([encoder.features(x) for x in segments], gains)
    as_recorded = spectral_profiles([power_mel(x, 16000, 400, 400, 160, 40) for x in segments])
    np.testing.assert_allclose(raised, as_recorded, atol=2e-3)
