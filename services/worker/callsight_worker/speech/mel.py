"""Mel spectrograms in plain numpy, as the speaker encoders were trained on them.

Both encoders we evaluated were trained on librosa's `melspectrogram` (Slaney mel scale,
Slaney area normalisation, power 2); this reproduces it without librosa (and its numba,
scipy and scikit-learn) so the worker image stays small.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

Spectrogram = npt.NDArray[np.float32]

_F_SP = 200.0 / 3  # Slaney: linear below 1 kHz, 66.7 Hz per mel
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / _F_SP
    high = hz >= _MIN_LOG_HZ
    mel[high] = _MIN_LOG_MEL + np.log(hz[high] / _MIN_LOG_HZ) / _LOGSTEP
    return mel


def mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    mel = np.asarray(mel, dtype=np.float64)
    hz = mel * _F_SP
    high = mel >= _MIN_LOG_MEL
    hz[high] = _MIN_LOG_HZ * np.exp(_LOGSTEP * (mel[high] - _MIN_LOG_MEL))
    return hz


@cache
def filterbank(sample_rate: int, n_fft: int, n_mels: int) -> npt.NDArray[np.float32]:
    """(n_mels, n_fft // 2 + 1) triangular filters, Slaney-normalised (librosa's default)."""
    fft_freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    edges = mel_to_hz(np.linspace(hz_to_mel(np.array([0.0]))[0], hz_to_mel(np.array([sample_rate / 2.0]))[0],
                                  n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (edges[2:n_mels + 2] - edges[:n_mels]))[:, None]
    return weights.astype(np.float32)


def power_mel(samples: npt.NDArray[np.float32], sample_rate: int, n_fft: int, win_length: int, hop: int,
              n_mels: int, window: str = "hann", center: bool = True) -> Spectrogram:
    """(frames, n_mels) mel power spectrogram, as `librosa.feature.melspectrogram`."""
    x = np.asarray(samples, dtype=np.float32)
    if center:
        x = np.pad(x, n_fft // 2, mode="constant")
    if x.size < n_fft:
        return np.zeros((0, n_mels), dtype=np.float32)
    win = (np.hanning(win_length + 1)[:-1] if window == "hann" else np.hamming(win_length + 1)[:-1])
    padded_win = np.zeros(n_fft, dtype=np.float32)
    left = (n_fft - win_length) // 2
    padded_win[left:left + win_length] = win
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]
    power = np.abs(np.fft.rfft(frames * padded_win, axis=1)) ** 2
    return (power @ filterbank(sample_rate, n_fft, n_mels).T).astype(np.float32)
