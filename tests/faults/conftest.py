"""Fault tests get a stack of their own: they kill and hold its servers."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from callsight_stack.stack import Stack
from tests.conftest import Api


@pytest.fixture(scope="module")
def fstack() -> Iterator[Stack]:
    run_dir = Path(tempfile.mkdtemp(prefix="callsight-faults-", dir="/tmp"))
    run_dir.chmod(0o755)
    stack = Stack(run_dir, workers=2, random_ports=True, env_overrides={
        "CALLSIGHT_VISIBILITY_TIMEOUT_S": "20",
        "CALLSIGHT_WHISPER_THREADS": "1",
        "CALLSIGHT_RATE_LIMIT_PER_MINUTE": "0",
    })
    stack.start()
    stack.start_supervisor()
    yield stack
    stack.stop()
    shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def fapi(fstack: Stack) -> Api:
    return Api(fstack.env["CALLSIGHT_URL"], fstack.env["CALLSIGHT_API_KEY"], fstack.env["CALLSIGHT_GATEWAY_OPS_URL"])
