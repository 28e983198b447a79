"""Fuzzing the gateway against its own OpenAPI document (schemathesis): no input may cause a 5xx, and every
answer must match what the document declares (status code, content type, body schema).

One test per operation of the document; each runs Hypothesis over schemathesis' strategies for the operation,
with data that fits the document (positive) and data that does not (negative), against the live gateway of
the test stack, as a fresh organisation: PUT /api/settings/qa-form and POST /api/analysis/rerun never touch
the `demo` organisation other tests use. That organisation has one Done call, and path parameters are also
pinned to its call, customer and operator IDs, so the call, transcript and analysis endpoints are fuzzed past
their 404 (not DELETE's: it would delete the call the rest fuzz). Its key has every scope, so the
administrators' endpoints (keys, webhooks, audit, retention) are fuzzed too. Bounded: MAX_EXAMPLES per operation, no shrinking, and a time budget for the whole file (past it,
the remaining operations send nothing). Upload bodies stay small (Hypothesis' binary strategy) but every field
of the form, and bodies that are not a form at all, are fuzzed.

(schemathesis' own pytest loader, `schemathesis.pytest.from_fixture`, does not work with pytest 9: it sets
`Function._nodeid`, which pytest 9 no longer has; hence plain Hypothesis over `APIOperation.as_strategy`.)
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.audio import stereo_call
from tests.conftest import Api, unique

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = 30
BUDGET_S = 150.0  # for all the operations together; the stack start and the seeded call come on top
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

DOCUMENT = Path(__file__).parents[2] / "services/upload/callsight_upload/openapi.yaml"
OPERATIONS = [
    f"{method.upper()} {path}"
    for path, item in yaml.safe_load(DOCUMENT.read_text())["paths"].items()
    for method in item
    if method in ("get", "post", "put", "patch", "delete")
]


@pytest.fixture(scope="module")
def fuzz_api(api: Api, admin: Any, tmp_path_factory: pytest.TempPathFactory) -> Api:
    org_id = unique("fuzz-org")
    admin.orgs.ensure_org(org_id, org_id, "en-US")
    key, _ = admin.orgs.create_api_key(org_id, "fuzz")
    return Api(api.url, key)


@pytest.fixture(scope="module")
def known_ids(fuzz_api: Api, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One Done call of the fuzzing organisation, for path parameters that find something."""
    wav = stereo_call(tmp_path_factory.mktemp("fuzz") / "fuzz-seed.wav")
    ids: dict[str, Any] = {"call_id": unique("fuzz-call"), "customer_id": unique("fuzz-cust"), "operator_id": unique("fuzz-op")}
    r = fuzz_api.upload(wav, language="en-US", **ids)
    assert r.status_code == 201, r.text
    assert fuzz_api.wait_final(ids["call_id"])["status"] == "Done"
    return ids


@pytest.fixture(scope="module")
def live_schema(fuzz_api: Api, known_ids: dict[str, str]) -> Any:
    schema = schemathesis.openapi.from_url(f"{fuzz_api.url}/api/openapi.json")
    schema.config.update(base_url=fuzz_api.url, headers={"X-API-Key": fuzz_api.key}, request_timeout=30)
    live = {op.ok().label for op in schema.get_all_operations()}  # type: ignore[union-attr]  # an Err (a broken operation) raises here, failing with its reason
    assert live == set(OPERATIONS), "the served document differs from openapi.yaml"
    return schema


@pytest.mark.timeout(300)
@pytest.mark.parametrize("label", OPERATIONS)
def test_no_input_causes_a_server_error_or_an_undocumented_answer(
    label: str, live_schema: Any, fuzz_api: Api, known_ids: dict[str, str]
) -> None:
    # each operation gets its own slice of the budget, so none goes unfuzzed on a slow machine
    deadline = time.monotonic() + BUDGET_S / len(OPERATIONS)
    operation = live_schema.find_operation_by_label(label)
    assert operation is not None, label
    # a DELETE pinned to the seeded call would delete it, and every later operation would fuzz a 404
    pinned = {} if operation.method.upper() == "DELETE" else {
        p.name: known_ids[p.name] for p in operation.path_parameters if p.name in known_ids}
    modes = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
    strategies = [operation.as_strategy(mode) for mode in modes]
    if pinned:
        strategies += [operation.as_strategy(mode, path_parameters=pinned) for mode in modes]
    headers = {"X-API-Key": fuzz_api.key}
    statuses: list[int] = []

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=False,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=st.one_of(strategies))
    def fuzz(case: schemathesis.Case) -> None:
        if statuses and time.monotonic() > deadline:
            return
        statuses.append(case.call_and_validate(headers=headers, checks=CHECKS).status_code)

    fuzz()
    print(f"{label}: {len(statuses)} requests, statuses {sorted(set(statuses))}")
    assert statuses, "nothing was sent"


NUL_REQUESTS = [
    ("GET", "/api/calls?department=a%00b", None),
    ("GET", "/api/calls?q=a%00b", None),
    ("GET", "/api/calls/a%00b", None),
    ("GET", "/api/calls/a%00b/transcript", None),
    ("GET", "/api/calls/a%00b/analysis", None),
    ("POST", "/api/calls/a%00b/analysis", None),
    ("POST", "/api/calls/a%00b/retry", None),
    ("GET", "/api/scorecards/operators?department=a%00b", None),
    ("GET", "/api/scorecards/operators/a%00b", None),
    ("GET", "/api/analytics/departments?department=a%00b", None),
    ("GET", "/api/customers/a%00b/calls", None),
    ("POST", "/api/analysis/rerun", {"department": "a\u0000b"}),
    ("POST", "/api/analysis/rerun", {"operator_id": "a\u0000b"}),
    ("PUT", "/api/settings/qa-form", {"items": [{"id": "a", "kind": "required_phrase", "phrases": ["x\u0000"]}]}),
    ("PUT", "/api/settings/qa-form", {"name": "n\u0000", "items": [{"id": "a", "kind": "required_phrase"}]}),
    ("DELETE", "/api/calls/a%00b", None),
    ("DELETE", "/api/keys/a%00b", None),
    ("GET", "/api/webhooks/a%00b", None),
    ("GET", "/api/audit?call_id=a%00b", None),
    ("POST", "/api/keys", {"name": "n\u0000", "scopes": ["read"]}),
    ("POST", "/api/webhooks", {"url": "https://example.com/\u0000", "events": ["call.done"]}),
]


@pytest.mark.parametrize(("method", "path", "body"), NUL_REQUESTS)
def test_nul_in_a_path_query_or_json_text_is_a_bad_request(method: str, path: str, body: Any, fuzz_api: Api) -> None:
    """Found by the fuzzer: PostgreSQL text cannot hold NUL, so these used to answer 500, or 502 with the
    status service's exception text (SQL included) as the message."""
    r = requests.request(method, f"{fuzz_api.url}{path}", headers={"X-API-Key": fuzz_api.key}, json=body, timeout=30)
    assert r.status_code == 400, r.text
    assert r.json()["status"] == 400 and "NUL" in r.json()["message"]
    assert "SQL" not in r.text and "psycopg" not in r.text
