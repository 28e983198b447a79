"""Configuration is read in one place per service and documented in one table."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
# where the environment may be touched: the settings objects' reader, and the gateway
# handing prometheus_client the folder its own settings chose (the client reads it itself)
ALLOWED = {"libs/callsight/callsight/settings.py", "services/upload/callsight_upload/__main__.py"}


def test_the_configuration_table_is_generated_from_the_settings_objects() -> None:
    result = subprocess.run([sys.executable, "scripts/settings_table.py"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_no_service_reads_the_environment_outside_its_settings() -> None:
    readers = []
    for path in [*ROOT.glob("services/*/callsight_*/**/*.py"), *ROOT.glob("libs/callsight/callsight/**/*.py")]:
        relative = str(path.relative_to(ROOT))
        if relative in ALLOWED or "/v1/" in relative:
            continue
        if re.search(r"\bos\.environ\b|\bgetenv\(", path.read_text()):
            readers.append(relative)
    assert not readers, f"read the variable through the service's settings object instead: {readers}"
