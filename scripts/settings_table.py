"""docs/configuration.md's table of every environment variable, generated from the
settings objects (`python scripts/settings_table.py --write` after changing one).

Each service reads its variables through one settings class; the rows below the
services' are variables read by the libraries and tools themselves."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from callsight.admin import AdminSettings
from callsight.settings import EnvSettings, is_secret, variable
from callsight_status.settings import StatusSettings
from callsight_upload.settings import GatewaySettings
from callsight_webhooks.settings import DelivererSettings
from callsight_worker.analysis_worker.settings import AnalysisWorkerSettings
from callsight_worker.lifecycle.settings import LifecycleSettings
from callsight_worker.settings import WorkerSettings

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
BEGIN, END = "<!-- settings table: begin -->", "<!-- settings table: end -->"

# deployable -> its one settings object
SERVICES: dict[str, type[EnvSettings]] = {
    "gateway": GatewaySettings,
    "status": StatusSettings,
    "worker": WorkerSettings,
    "analysis worker": AnalysisWorkerSettings,
    "lifecycle worker": LifecycleSettings,
    "webhook deliverer": DelivererSettings,
    "admin": AdminSettings,  # python -m callsight.admin, python -m callsight.db (migrations)
}
# read by a library or a tool, not by a settings object: (variable, read by, default, what)
OTHERS = [
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "OpenTelemetry's OTLP exporter", "http://localhost:4318",
     "Where traces go when OTEL_TRACES_EXPORTER=otlp"),
    ("AWS_ACCESS_KEY_ID", "boto3", "–", "Static AWS key (secret); unset = boto3's chain (IRSA on EKS)"),
    ("AWS_SECRET_ACCESS_KEY", "boto3", "–", "Its secret (secret)"),
    ("OMP_NUM_THREADS", "CTranslate2 (worker)", "all CPUs", "OpenMP threads of the speech model; the chart sets it"),
    ("HF_HUB_OFFLINE", "faster-whisper (worker image)", "1", "Never reach Hugging Face: the model ships in the image"),
    ("CALLSIGHT_WORKERS", "launcher (`make up`)", "2", "Transcription workers the local stack starts"),
    ("CALLSIGHT_PORT", "launcher (`make up`)", "a free port", "Port of the local gateway"),
    ("CALLSIGHT_KEEP_TEST_STACK", "tests", "unset", "Keep the test stack's folder (logs) after the run"),
    ("CALLSIGHT_BROWSER_TESTS", "scripts/install.sh", "1", "0 = do not install chromium for the browser tests"),
    ("PYTHON", "scripts/install.sh", "python3.11", "Interpreter of the project's virtualenv"),
]


def _default(info: FieldInfo) -> str:
    extra: Any = info.json_schema_extra
    if isinstance(extra, dict) and extra.get("shown_default"):
        return str(extra["shown_default"])
    if info.default is PydanticUndefined:
        return "**required**"
    if info.default is None:
        return "unset"
    if isinstance(info.default, bool):
        return str(info.default).lower()
    return f"`{info.default}`"


def _per_service(found: list[tuple[str, str]]) -> str:
    """One value when every service agrees, else each service's own."""
    if len({value for _, value in found}) == 1:
        return found[0][1]
    return "; ".join(f"{service}: {value}" for service, value in found)


def table() -> str:
    rows: dict[str, list[tuple[str, FieldInfo]]] = {}
    for service, settings in SERVICES.items():
        for info in settings.model_fields.values():
            rows.setdefault(variable(info), []).append((service, info))
    lines = ["| variable | read by | default | secret | what |", "|---|---|---|---|---|"]
    for name in sorted(rows):
        found = rows[name]
        secret = "yes" if is_secret(found[0][1]) else ""
        default = _per_service([(s, _default(i)) for s, i in found])
        what = _per_service([(s, str(i.description)) for s, i in found])
        lines.append(f"| `{name}` | {', '.join(s for s, _ in found)} | {default} | {secret} | {what} |")
    for name, reader, default, what in OTHERS:
        lines.append(f"| `{name}` | {reader} | {default} |  | {what} |")
    return "\n".join(lines)


def render(doc: str) -> str:
    head, _, rest = doc.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    current = DOC.read_text()
    wanted = render(current)
    if "--write" in argv:
        DOC.write_text(wanted)
        return 0
    if current != wanted:
        print("docs/configuration.md is stale: run python scripts/settings_table.py --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
