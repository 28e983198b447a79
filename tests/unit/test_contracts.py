"""The committed gRPC stubs are exactly what protoc makes from proto/ today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def test_generated_stubs_are_fresh(tmp_path: Path) -> None:
    protos = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "proto").rglob("*.proto"))
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-Iproto", f"--python_out={tmp_path}",
                    f"--pyi_out={tmp_path}", f"--grpc_python_out={tmp_path}", *protos], cwd=ROOT, check=True)
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.py*"))
    assert generated
    committed = ROOT / "libs" / "callsight"
    stale = [str(p) for p in generated if (tmp_path / p).read_bytes() != (committed / p).read_bytes()]
    assert not stale, f"regenerate with scripts/gen_protos.sh: {stale}"


def test_job_message_round_trips() -> None:
    from callsight.jobqueue import decode, encode
    from callsight.v1 import job_pb2

    job = job_pb2.TranscriptionJob(call_uid="u", org_id="o", generation=3, audio_key="k",
                                   trace_context={"traceparent": "00-abc-def-01"})
    assert decode(encode(job)) == job
