"""The Python part of each image, built for real without Docker: the builder stage's
`pip install` steps run in a fresh virtualenv from the repository root (where every
COPY source lives), then `pip check`, the entry package imports, and for the worker the
model is joined and hash-checked exactly as the image build does."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.deploy
ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"upload": "callsight_upload", "status": "callsight_status", "worker": "callsight_worker",
            "analysis-worker": "callsight_worker.analysis_worker", "lifecycle-worker": "callsight_worker.lifecycle",
            "webhook-deliverer": "callsight_webhooks"}
DOCKERFILES = {s: ROOT / "services" / s / "Dockerfile" for s in ("upload", "status", "worker")} | {
    "analysis-worker": ROOT / "services" / "worker" / "Dockerfile.analysis",
    "lifecycle-worker": ROOT / "services" / "worker" / "Dockerfile.lifecycle",
    "webhook-deliverer": ROOT / "services" / "webhooks" / "Dockerfile"}
# what an image must not carry: the gateway's web stack elsewhere, the speech stack outside the transcription worker
SPEECH = ("faster_whisper", "ctranslate2", "av", "onnxruntime")
ABSENT = {"status": ("flask", "gunicorn", "argon2"), "analysis-worker": SPEECH,
          "lifecycle-worker": (*SPEECH, "flask", "gunicorn"), "webhook-deliverer": (*SPEECH, "flask", "gunicorn")}


def builder_run_steps(dockerfile: Path) -> list[str]:
    """The RUN commands of the first (builder) stage, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", dockerfile.read_text())
    stages = re.split(r"(?m)^FROM ", text)
    return [m.group(1).strip() for m in re.finditer(r"(?m)^RUN (.+)$", stages[1])]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_image_python_install_steps_build_and_import(service: str, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = venv / "bin" / "pip"
    env_path = f"{venv / 'bin'}:/usr/bin:/bin"
    steps = [s for s in builder_run_steps(DOCKERFILES[service]) if "pip" in s or "callsight" in s]
    assert any("pip install" in s for s in steps), steps
    for step in steps:
        if step.startswith("python -m venv"):
            continue
        # same commands; the pip cache may be used here, the model goes to a temp folder
        command = step.replace("--no-cache-dir", "").replace("/models/whisper-base", str(tmp_path / "model"))
        result = subprocess.run(["bash", "-c", command], cwd=ROOT, env={"PATH": env_path, "HOME": str(tmp_path)},
                                capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, f"{service}: `{step}` failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    check = subprocess.run([str(pip), "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    imported = subprocess.run([str(venv / "bin" / "python"), "-c", f"import {SERVICES[service]}.__main__"],
                              capture_output=True, text=True, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr[-2000:]
    if service == "worker":
        assert (tmp_path / "model" / "model.bin").exists()
    for module in ABSENT.get(service, ()):
        found = subprocess.run([str(venv / "bin" / "python"), "-c", f"import {module}"], capture_output=True, cwd=tmp_path)
        assert found.returncode != 0, f"the {service} image carries {module}, which it never uses"
