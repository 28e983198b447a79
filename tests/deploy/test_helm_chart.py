"""The Kubernetes deployment, checked without a cluster.

Renders deploy/helm/callsight with `helm template` for several value sets and
checks what matters for running Callsight: workers outlast their longest job,
KEDA scales them on SQS depth (in-flight jobs included) and the HPA exists only
without KEDA, every container runs as non-root on a read-only root filesystem,
bad values fail before anything reaches a cluster. The rendered manifests go
through `helm lint --strict`, `kubernetes-validate --strict`, the KEDA CRD
models (node), checkov and yamllint; the Dockerfiles through hadolint.

Tools come from scripts/install-k8s-tools.sh (into .tools/); a missing tool
fails the test with that instruction rather than skipping it.
"""

from __future__ import annotations

import functools
import http.server
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.deploy

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "deploy" / "helm" / "callsight"
CHECKOV_CONFIG = REPO / "deploy" / "helm" / ".checkov.yaml"
TOOLS = Path(os.environ.get("CALLSIGHT_TOOLS_DIR", REPO / ".tools"))
INSTALL_HINT = "run `bash scripts/install-k8s-tools.sh` to install it into .tools/"
SERVICES = ("upload", "status", "worker", "analysis-worker", "lifecycle-worker", "webhook-deliverer")
# the values key and the Dockerfile of each deployable (the analysis and lifecycle workers are built from the
# worker's package)
VALUES_KEY = {"upload": "upload", "status": "status", "worker": "worker", "analysis-worker": "analysisWorker",
              "lifecycle-worker": "lifecycleWorker", "webhook-deliverer": "webhookDeliverer"}
DOCKERFILES = {s: REPO / "services" / s / "Dockerfile" for s in ("upload", "status", "worker")} | {
    "analysis-worker": REPO / "services" / "worker" / "Dockerfile.analysis",
    "lifecycle-worker": REPO / "services" / "worker" / "Dockerfile.lifecycle",
    "webhook-deliverer": REPO / "services" / "webhooks" / "Dockerfile"}
# the background services that poll PostgreSQL: a fixed number of replicas, no Service, no queue
POLLERS = ("lifecycle-worker", "webhook-deliverer")
RELEASE = "callsight"
NAMESPACE = "callsight"
# The chart's kubeVersion floor (native gRPC probes) and the newest schemas kubernetes-validate has.
KUBE_VERSIONS = ("1.27.0", "1.37.0")


def sets(*assignments: str) -> list[str]:
    return [arg for assignment in assignments for arg in ("--set", assignment)]


# Value sets: files under the chart plus --set overrides.
AWS = ["-f", str(CHART / "ci" / "aws-values.yaml")]
VALUE_SETS: dict[str, list[str]] = {
    # values.yaml plus only what a real install must supply.
    "defaults": sets(
        "config.s3.bucket=callsight-audio",
        "config.sqs.queueUrl=https://sqs.us-east-1.amazonaws.com/123456789012/callsight-jobs",
        "config.sqs.analysisQueueUrl=https://sqs.us-east-1.amazonaws.com/123456789012/callsight-analysis",
        "secrets.databaseUrl=postgresql://callsight:pw@db:5432/callsight",
        "secrets.redisUrl=redis://cache:6379/0",
    ),
    "aws": AWS,
    "dev": ["-f", str(CHART / "values-dev.yaml")],
    "keda-off": [*AWS, *sets("worker.autoscaling.keda.enabled=false", "analysisWorker.autoscaling.keda.enabled=false")],
    "scale-to-zero": [*AWS, *sets("worker.autoscaling.minReplicas=0")],
    "existing-secret": [
        *AWS,
        *sets(
            "secrets.existingSecret=callsight-managed",
            "config.engine=amivoice",
            "worker.autoscaling.keda.authentication.mode=secret",
        ),
    ],
}
KEDA_SETS = ("defaults", "aws", "dev", "scale-to-zero", "existing-secret")


# -- tools ------------------------------------------------------------------------------


def tool(name: str) -> str:
    path = TOOLS / "bin" / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found:
        return found
    pytest.fail(f"{name} is not installed (looked in {TOOLS / 'bin'} and on PATH): {INSTALL_HINT}")


def run(args: list[str], *, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=300, cwd=REPO)
    if check and done.returncode != 0:
        pytest.fail(f"{' '.join(args[:3])} ... exited {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run([tool("helm"), *args], check=check)


@functools.cache
def rendered_text(value_set: str) -> str:
    return helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE, *VALUE_SETS[value_set]).stdout


def rendered(value_set: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(rendered_text(value_set)) if doc]


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def named(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [doc for doc in of_kind(docs, kind) if doc["metadata"]["name"] == name]
    assert matches, f"no {kind} named {name}; have {[d['metadata']['name'] for d in of_kind(docs, kind)]}"
    return matches[0]


def config_map(docs: list[dict[str, Any]]) -> dict[str, str]:
    return named(docs, "ConfigMap", f"{RELEASE}-config")["data"]


def pod_specs(docs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    specs = []
    for doc in docs:
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
            specs.append((name, doc["spec"]["template"]["spec"]))
        elif doc["kind"] == "Pod":
            specs.append((name, doc["spec"]))
    return specs


def write_manifests(tmp_path: Path, value_sets: tuple[str, ...]) -> Path:
    folder = tmp_path / "rendered"
    folder.mkdir()
    for value_set in value_sets:
        (folder / f"{value_set}.yaml").write_text(rendered_text(value_set))
    return folder


# -- the chart as a whole ------------------------------------------------------------


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_chart_passes_helm_lint_strict(value_set: str) -> None:
    done = helm("lint", "--strict", str(CHART), "--namespace", NAMESPACE, *VALUE_SETS[value_set], check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_core_kinds_pass_kubernetes_validate_strict(value_set: str, tmp_path: Path) -> None:
    manifests = write_manifests(tmp_path, (value_set,)) / f"{value_set}.yaml"
    for version in KUBE_VERSIONS:
        done = run([tool("kubernetes-validate"), "--strict", "--quiet", "-k", version, str(manifests)], check=False)
        # CRD kinds (KEDA, Prometheus Operator) only warn here; they are checked elsewhere.
        problems = [
            line
            for line in (done.stdout + done.stderr).splitlines()
            if line.strip() and "Couldn't find schema" not in line
        ]
        assert done.returncode == 0 and not problems, f"Kubernetes {version}:\n" + "\n".join(problems)


@pytest.mark.parametrize("value_set", KEDA_SETS)
def test_keda_objects_match_the_keda_crd_schemas(value_set: str) -> None:
    node = tool("node")
    models = TOOLS / "node_modules"
    if not (models / "@kubernetes-models" / "keda" / "package.json").exists():
        pytest.fail(f"@kubernetes-models/keda is not in {models}: {INSTALL_HINT}")
    keda_docs = [doc for doc in rendered(value_set) if doc["apiVersion"].startswith("keda.sh/")]
    assert {doc["kind"] for doc in keda_docs} == {"ScaledObject", "TriggerAuthentication"}
    done = run(
        [node, str(Path(__file__).with_name("validate_keda.mjs")), str(models)],
        stdin=json.dumps(keda_docs),
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_checkov_finds_nothing_that_is_not_fixed_or_justified(tmp_path: Path) -> None:
    folder = write_manifests(tmp_path, tuple(VALUE_SETS))
    done = run(
        [tool("checkov"), "--config-file", str(CHECKOV_CONFIG), "--skip-download", "-d", str(folder), "-o", "json"],
        check=False,
    )
    reports = json.loads(done.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [
        f"{check['check_id']} {check['check_name']}: {check['resource']} ({Path(check['file_path']).name})"
        for report in reports
        for check in report["results"]["failed_checks"]
    ]
    assert not failed, "fix these in the chart or skip them with a reason in deploy/helm/.checkov.yaml:\n" + "\n".join(
        failed
    )
    assert sum(report["summary"]["passed"] for report in reports) > 500


def test_values_files_and_rendered_manifests_pass_yamllint(tmp_path: Path) -> None:
    folder = write_manifests(tmp_path, tuple(VALUE_SETS))
    authored = [
        CHART / "Chart.yaml",
        CHART / "values.yaml",
        CHART / "values-dev.yaml",
        CHART / "ci" / "aws-values.yaml",
        CHECKOV_CONFIG,
        REPO / "skaffold.yaml",
    ]
    rules = (
        "{extends: default, rules: {line-length: {max: 160}, document-start: disable,"
        " indentation: {indent-sequences: whatever}, comments: {min-spaces-from-content: 1}}}"
    )
    done = run(
        [tool("yamllint"), "--strict", "-d", rules, *map(str, authored), *map(str, sorted(folder.iterdir()))],
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# -- values that must be rejected ------------------------------------------------------

BAD_VALUES = {
    "negative max replicas": (["--set", "worker.autoscaling.maxReplicas=-1"], "/worker/autoscaling/maxReplicas"),
    "negative min replicas": (["--set", "worker.autoscaling.minReplicas=-1"], "/worker/autoscaling/minReplicas"),
    "negative replica count": (["--set", "upload.replicaCount=-2"], "/upload/replicaCount"),
    "queue length as a string": (
        ["--set-string", "worker.autoscaling.keda.queueLength=5"],
        "/worker/autoscaling/keda/queueLength",
    ),
    "unknown engine": (["--set", "config.engine=google"], "/config/engine"),
    "unknown key": (["--set", "worker.autoscalling.enabled=false"], "autoscalling"),
    "writable root filesystem": (
        ["--set", "containerSecurityContext.readOnlyRootFilesystem=false"],
        "/containerSecurityContext/readOnlyRootFilesystem",
    ),
    "malformed image digest": (["--set", "worker.image.digest=latest"], "/worker/image/digest"),
    # the re-run producer runs in the analysis workers: at zero nothing would ever enqueue a re-run
    "analysis workers scaled to zero": (["--set", "analysisWorker.autoscaling.minReplicas=0"],
                                        "/analysisWorker/autoscaling/minReplicas"),
    "amivoice without its key": (["--set", "config.engine=amivoice"], "amivoiceAppkey"),
    "webhook concurrency of zero": (["--set", "webhookDeliverer.concurrency=0"], "/webhookDeliverer/concurrency"),
    "deletion batch over the worker's limit": (["--set", "lifecycleWorker.deletionBatch=5000"],
                                               "/lifecycleWorker/deletionBatch"),
    "webhook networks that are not networks": (["--set", "config.webhooks.allowedNetworks=everything"],
                                               "/config/webhooks/allowedNetworks"),
    "webhook egress to port 0": (["--set", "networkPolicy.webhookEgress.ports={0}"],
                                 "/networkPolicy/webhookEgress/ports/0"),
}


@pytest.mark.parametrize("case", BAD_VALUES)
def test_bad_values_fail_lint_and_template_with_the_offending_path(case: str) -> None:
    overrides, expected = BAD_VALUES[case]
    for command in (["lint", "--strict"], ["template", RELEASE]):
        done = helm(*command, str(CHART), *AWS, *overrides, check=False)
        assert done.returncode != 0, f"helm {command[0]} accepted {overrides}"
        assert expected in done.stdout + done.stderr, done.stdout + done.stderr


def test_missing_required_values_fail_with_messages_naming_them() -> None:
    done = helm("template", RELEASE, str(CHART), check=False)
    assert done.returncode != 0
    assert "is required" in done.stderr and (
        "config.s3.bucket" in done.stderr or "queueUrl" in done.stderr or "databaseUrl" in done.stderr
    ), done.stderr
    without_analysis_queue = sets(*[a for a in VALUE_SETS["defaults"][1::2] if not a.startswith("config.sqs.analysis")])
    done = helm("template", RELEASE, str(CHART), *without_analysis_queue, check=False)
    assert done.returncode != 0 and "config.sqs.analysisQueueUrl is required" in done.stderr, done.stderr


# -- workers and autoscaling -------------------------------------------------------------


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_worker_grace_period_outlasts_the_longest_job(value_set: str) -> None:
    docs = rendered(value_set)
    max_job_seconds = int(config_map(docs)["CALLSIGHT_MAX_JOB_SECONDS"])
    worker = named(docs, "Deployment", f"{RELEASE}-worker")["spec"]["template"]["spec"]
    assert worker["terminationGracePeriodSeconds"] > max_job_seconds
    # The worker drains on SIGTERM itself: no preStop hook delays or replaces that.
    assert all("lifecycle" not in container for container in worker["containers"])


def test_grace_period_follows_max_job_seconds() -> None:
    docs = [
        d
        for d in yaml.safe_load_all(
            helm("template", RELEASE, str(CHART), *AWS, "--set", "config.maxJobSeconds=7200").stdout
        )
        if d
    ]
    grace = named(docs, "Deployment", f"{RELEASE}-worker")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace == 7200 + 120


@pytest.mark.parametrize("value_set", KEDA_SETS)
def test_scaled_object_scales_workers_on_queue_depth_counting_in_flight_jobs(value_set: str) -> None:
    docs = rendered(value_set)
    scaled = named(docs, "ScaledObject", f"{RELEASE}-worker")
    spec = scaled["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{RELEASE}-worker"}
    assert isinstance(spec["minReplicaCount"], int) and isinstance(spec["maxReplicaCount"], int)
    assert 0 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
    assert spec["pollingInterval"] > 0 and spec["cooldownPeriod"] >= 0
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "aws-sqs-queue"
    metadata = trigger["metadata"]
    assert metadata["queueURL"] == config_map(docs)["CALLSIGHT_SQS_QUEUE_URL"]
    assert metadata["awsRegion"] == config_map(docs)["AWS_REGION"]
    # KEDA reads trigger metadata as strings.
    assert all(isinstance(value, str) for value in metadata.values())
    assert int(metadata["queueLength"]) >= 1 and int(metadata["activationQueueLength"]) >= 0
    # In-flight jobs count, so KEDA never scales away (or to zero) a worker that is transcribing.
    assert metadata["scaleOnInFlight"] == "true"
    auth = named(docs, "TriggerAuthentication", trigger["authenticationRef"]["name"])["spec"]
    if value_set in ("dev", "existing-secret"):
        secret = named(docs, "Deployment", f"{RELEASE}-worker")["spec"]["template"]["spec"]["containers"][0]["envFrom"][
            1
        ]
        refs = {ref["parameter"]: ref for ref in auth["secretTargetRef"]}
        assert set(refs) == {"awsAccessKeyID", "awsSecretAccessKey"}
        assert {ref["name"] for ref in refs.values()} == {secret["secretRef"]["name"]}
    else:
        assert auth["podIdentity"] == {"provider": "aws", "identityOwner": "workload"}
    if value_set == "dev":
        assert metadata["awsEndpoint"] == config_map(docs)["CALLSIGHT_SQS_ENDPOINT_URL"]
    else:
        assert "awsEndpoint" not in metadata


@pytest.mark.parametrize("value_set", KEDA_SETS)
def test_analysis_workers_scale_on_their_own_queue_and_load_no_model(value_set: str) -> None:
    docs = rendered(value_set)
    spec = named(docs, "ScaledObject", f"{RELEASE}-analysis-worker")["spec"]
    assert spec["scaleTargetRef"]["name"] == f"{RELEASE}-analysis-worker"
    assert spec["minReplicaCount"] >= 1  # its pods run the re-run producer
    (trigger,) = spec["triggers"]
    data = config_map(docs)
    assert trigger["metadata"]["queueURL"] == data["CALLSIGHT_ANALYSIS_QUEUE_URL"] != data["CALLSIGHT_SQS_QUEUE_URL"]
    assert named(docs, "ScaledObject", f"{RELEASE}-worker")["spec"]["triggers"][0]["metadata"]["queueURL"] == (
        data["CALLSIGHT_SQS_QUEUE_URL"])
    pod = named(docs, "Deployment", f"{RELEASE}-analysis-worker")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"].split("@")[0].rsplit(":", 1)[0].endswith("callsight-analysis-worker")
    assert "CALLSIGHT_MODEL_DIR" not in {e["name"] for e in container["env"]}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "ops"}
    assert {"CALLSIGHT_RERUN_DRIP_PER_S", "CALLSIGHT_RERUN_MAX_QUEUED", "CALLSIGHT_ANALYSIS_DLQ_URL"} <= set(data)


def test_scale_to_zero_sets_min_replica_count_to_zero() -> None:
    assert named(rendered("scale-to-zero"), "ScaledObject", f"{RELEASE}-worker")["spec"]["minReplicaCount"] == 0
    assert named(rendered("aws"), "ScaledObject", f"{RELEASE}-worker")["spec"]["minReplicaCount"] == 1


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_worker_hpa_exists_only_when_keda_is_off(value_set: str) -> None:
    docs = rendered(value_set)
    worker_hpas = [h for h in of_kind(docs, "HorizontalPodAutoscaler") if h["metadata"]["name"] == f"{RELEASE}-worker"]
    if value_set == "keda-off":
        assert not of_kind(docs, "ScaledObject") and not of_kind(docs, "TriggerAuthentication")
        (hpa,) = worker_hpas
        analysis = named(docs, "HorizontalPodAutoscaler", f"{RELEASE}-analysis-worker")["spec"]
        assert analysis["scaleTargetRef"]["name"] == f"{RELEASE}-analysis-worker" and analysis["minReplicas"] >= 1
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"]["name"] == f"{RELEASE}-worker"
        assert hpa["spec"]["minReplicas"] >= 1
        (metric,) = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"
    else:
        assert not worker_hpas
        assert of_kind(docs, "ScaledObject")


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_autoscaled_deployments_leave_replicas_to_the_autoscaler(value_set: str) -> None:
    # A replicas field would make every `helm upgrade` reset what KEDA or the HPA chose.
    for name in ("worker", "analysis-worker"):
        assert "replicas" not in named(rendered(value_set), "Deployment", f"{RELEASE}-{name}")["spec"]


def test_workers_have_no_service_and_are_scraped_by_pod_monitor() -> None:
    docs = rendered("aws")
    for name in ("worker", "analysis-worker", *POLLERS):
        assert f"{RELEASE}-{name}" not in {svc["metadata"]["name"] for svc in of_kind(docs, "Service")}
        monitor = named(docs, "PodMonitor", f"{RELEASE}-{name}")
        assert monitor["spec"]["podMetricsEndpoints"][0]["port"] == "ops"
    assert {m["metadata"]["name"] for m in of_kind(docs, "ServiceMonitor")} == {
        f"{RELEASE}-upload",
        f"{RELEASE}-status",
    }


# -- pods: security, probes, resources -------------------------------------------------


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_every_container_runs_non_root_with_a_read_only_root_filesystem(value_set: str) -> None:
    specs = pod_specs(rendered(value_set))
    assert len(specs) >= 4
    for name, spec in specs:
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True, name
        assert pod["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec["containers"] + spec.get("initContainers", []):
            ctx = container["securityContext"]
            where = f"{name} container {container['name']}"
            assert ctx["runAsNonRoot"] is True, where
            assert ctx["readOnlyRootFilesystem"] is True, where
            assert ctx["allowPrivilegeEscalation"] is False, where
            assert ctx["capabilities"]["drop"] == ["ALL"], where
            assert ctx.get("runAsUser", pod.get("runAsUser", 0)) > 0, where
            assert container["resources"]["requests"] and container["resources"]["limits"]["memory"], where
            assert any(m["mountPath"] == "/tmp" for m in container.get("volumeMounts", [])), (
                f"{where}: no writable /tmp"
            )


def test_service_probes_use_health_endpoints_and_native_grpc_for_readiness() -> None:
    docs = rendered("aws")
    status = named(docs, "Deployment", f"{RELEASE}-status")["spec"]["template"]["spec"]["containers"][0]
    # alive = the process, so an outage of the database takes pods out of the Service without
    # restarting them; ready = gRPC health (NOT_SERVING without PostgreSQL), asked on the ops
    # port's /readyz under mutual TLS (the default: the kubelet's gRPC probe is plaintext)
    for probe in ("startupProbe", "livenessProbe"):
        assert status[probe]["httpGet"] == {"path": "/healthz", "port": "ops"}
    assert status["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "ops"}
    plain = [d for d in yaml.safe_load_all(helm("template", RELEASE, str(CHART), *AWS,
                                                *sets("grpcTls.enabled=false")).stdout) if d]
    status = named(plain, "Deployment", f"{RELEASE}-status")["spec"]["template"]["spec"]["containers"][0]
    assert status["readinessProbe"]["grpc"]["port"] == 50051
    upload = named(docs, "Deployment", f"{RELEASE}-upload")["spec"]["template"]["spec"]["containers"][0]
    worker = named(docs, "Deployment", f"{RELEASE}-worker")["spec"]["template"]["spec"]["containers"][0]
    assert upload["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "ops"}
    assert upload["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert worker["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "ops"}
    assert worker["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "ops"}


def test_services_get_their_configuration_from_the_environment() -> None:
    docs = rendered("aws")
    data = config_map(docs)
    assert data["CALLSIGHT_STATUS_ADDR"] == f"{RELEASE}-status.{NAMESPACE}.svc:50051"
    assert data["CALLSIGHT_ENGINE"] == "whisper" and data["CALLSIGHT_S3_ENDPOINT_URL"] == ""
    secret = named(docs, "Secret", f"{RELEASE}-secrets")["stringData"]
    assert {"CALLSIGHT_DATABASE_URL", "CALLSIGHT_REDIS_URL", "CALLSIGHT_API_KEY_PEPPER", "CALLSIGHT_SECRET_KEY"} <= set(
        secret
    )
    assert not any(key.startswith("CALLSIGHT_") for key in data if key in secret)
    worker_env = {
        e["name"]: e.get("value")
        for e in named(docs, "Deployment", f"{RELEASE}-worker")["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert worker_env["CALLSIGHT_MODEL_DIR"] == "/models/whisper-base"


def test_existing_secret_replaces_the_chart_secret_everywhere() -> None:
    docs = rendered("existing-secret")
    assert not [s for s in of_kind(docs, "Secret") if s["metadata"]["name"] == f"{RELEASE}-secrets"]
    for name, spec in pod_specs(docs):
        for container in spec["containers"]:
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    assert source["secretRef"]["name"] == "callsight-managed", name
    migrations = named(docs, "Job", f"{RELEASE}-migrations")["spec"]["template"]["spec"]["containers"][0]
    assert migrations["env"][0]["valueFrom"]["secretKeyRef"]["name"] == "callsight-managed"


def test_generated_pepper_is_kept_on_uninstall() -> None:
    secret = named(rendered("defaults"), "Secret", f"{RELEASE}-secrets")
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert len(secret["stringData"]["CALLSIGHT_API_KEY_PEPPER"]) >= 32


def test_images_are_pinned_by_digest_when_one_is_given() -> None:
    images = {c["image"] for _, spec in pod_specs(rendered("aws")) for c in spec["containers"]}
    # ci/aws-values.yaml gives each service a digest of one repeated digit.
    assert images == {f"callsight-{s}:0.1.0@sha256:{d * 64}" for s, d in zip(SERVICES, "123456", strict=True)}


def test_service_accounts_carry_irsa_roles() -> None:
    docs = rendered("aws")
    for service in ("upload", "worker", "analysis-worker", "lifecycle-worker"):
        account = named(docs, "ServiceAccount", f"{RELEASE}-{service}")
        assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith(f"role/callsight-{service}")
        deployment = named(docs, "Deployment", f"{RELEASE}-{service}")
        assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == f"{RELEASE}-{service}"


@pytest.mark.parametrize("value_set", ("aws", "defaults"))
def test_pod_disruption_budgets_cover_every_service(value_set: str) -> None:
    budgets = {p["metadata"]["name"]: p["spec"] for p in of_kind(rendered(value_set), "PodDisruptionBudget")}
    assert set(budgets) == {f"{RELEASE}-{s}" for s in SERVICES}
    assert all(spec["maxUnavailable"] == 1 for spec in budgets.values())


def test_replicas_spread_over_zones_and_nodes() -> None:
    docs = rendered("aws")
    for service in SERVICES:
        spread = named(docs, "Deployment", f"{RELEASE}-{service}")["spec"]["template"]["spec"][
            "topologySpreadConstraints"
        ]
        assert {c["topologyKey"] for c in spread} == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
        assert all(c["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == service for c in spread)


# -- the lifecycle worker and the webhook deliverer --------------------------------------


def _values() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((CHART / "values.yaml").read_text())
    return loaded


def _pod_env(docs: list[dict[str, Any]], service: str) -> dict[str, str]:
    """What the service's process sees: the ConfigMap, the chart's Secret, then its own env."""
    container = named(docs, "Deployment", f"{RELEASE}-{service}")["spec"]["template"]["spec"]["containers"][0]
    env = dict(config_map(docs))
    env |= named(docs, "Secret", f"{RELEASE}-secrets")["stringData"]
    env |= {e["name"]: e["value"] for e in container["env"]}
    return env


@pytest.mark.parametrize("value_set", ["defaults", "aws"])
@pytest.mark.parametrize("service", POLLERS)
def test_pollers_run_their_entry_point_with_probes_resources_and_a_locked_down_pod(service: str,
                                                                                  value_set: str) -> None:
    docs = rendered(value_set)
    values = _values()[VALUES_KEY[service]]
    deployment = named(docs, "Deployment", f"{RELEASE}-{service}")
    assert deployment["spec"]["replicas"] == values["replicaCount"] >= 1
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    module = {"lifecycle-worker": "callsight_worker.lifecycle", "webhook-deliverer": "callsight_webhooks"}[service]
    assert container["command"] == ["python", "-m", module]
    assert container["image"].split("@")[0].rsplit(":", 1)[0].endswith(f"callsight-{service}")
    assert pod["serviceAccountName"] == f"{RELEASE}-{service}" and pod["automountServiceAccountToken"] is False
    assert pod["terminationGracePeriodSeconds"] == values["terminationGracePeriodSeconds"]
    # the ops port the service serves (OPS_PORT), and probes on it: alive = the process, ready = its dependencies
    assert container["ports"] == [{"name": "ops", "containerPort": values["opsPort"], "protocol": "TCP"}]
    assert _pod_env(docs, service)["OPS_PORT"] == str(values["opsPort"])
    for probe in ("startupProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "ops"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "ops"}
    assert container["resources"] == values["resources"]
    assert container["securityContext"] == _values()["containerSecurityContext"]
    assert pod["securityContext"] == _values()["podSecurityContext"]
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/tmp"}
    # no Service; ingress to its ops port only; a disruption budget; scraped as pods
    assert f"{RELEASE}-{service}" not in {svc["metadata"]["name"] for svc in of_kind(docs, "Service")}
    policy = named(docs, "NetworkPolicy", f"{RELEASE}-{service}")["spec"]
    assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == service
    assert [p["port"] for rule in policy["ingress"] for p in rule["ports"]] == ["ops"]
    assert named(docs, "PodDisruptionBudget", f"{RELEASE}-{service}")["spec"]["maxUnavailable"] == 1


@pytest.mark.parametrize("value_set", ["defaults", "aws"])
def test_pollers_get_every_setting_they_need_from_the_chart(value_set: str) -> None:
    """The environment the chart gives each pod is read by the service's own settings
    class: nothing required is missing, and the chart's values arrive."""
    from callsight_webhooks.settings import DelivererSettings
    from callsight_worker.lifecycle.settings import LifecycleSettings

    docs = [d for d in yaml.safe_load_all(helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE,
                                                *VALUE_SETS[value_set], *sets(
        "lifecycleWorker.deletionBatch=7", "lifecycleWorker.retentionIntervalSeconds=600",
        "webhookDeliverer.concurrency=3", "webhookDeliverer.timeoutSeconds=5")).stdout) if d]
    lifecycle = LifecycleSettings.from_env(_pod_env(docs, "lifecycle-worker"))
    bucket = config_map(docs)["CALLSIGHT_S3_BUCKET"]
    assert lifecycle.s3_bucket == bucket and lifecycle.redis_url.get_secret_value()
    assert (lifecycle.deletion_batch, lifecycle.retention_interval_s) == (7, 600.0)
    assert lifecycle.database_url.get_secret_value().startswith("postgresql://")
    deliverer = DelivererSettings.from_env(_pod_env(docs, "webhook-deliverer"))
    assert (deliverer.webhook_concurrency, deliverer.webhook_timeout_s) == (3, 5.0)
    assert deliverer.database_url.get_secret_value() == lifecycle.database_url.get_secret_value()


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_webhooks_to_private_addresses_are_refused_by_default(value_set: str) -> None:
    """The request forgery guard: the chart leaves no private network open, for the gateway
    (checking a new webhook's URL) and the deliverer (every address it connects to) alike."""
    from callsight.settings import WebhookTargetSettings
    from callsight.webhook_targets import forbidden_reason

    docs = rendered(value_set)
    assert config_map(docs)["CALLSIGHT_WEBHOOK_ALLOWED_NETWORKS"] == ""
    for service in ("upload", "webhook-deliverer"):
        container = named(docs, "Deployment", f"{RELEASE}-{service}")["spec"]["template"]["spec"]["containers"][0]
        assert {"configMapRef": {"name": f"{RELEASE}-config"}} in container["envFrom"]
        assert "CALLSIGHT_WEBHOOK_ALLOWED_NETWORKS" not in {e["name"] for e in container["env"]}
    allowed = WebhookTargetSettings.from_env(config_map(docs)).webhook_networks
    for address in ("127.0.0.1", "10.0.0.5", "172.20.0.1", "192.168.1.1", "169.254.169.254", "::1", "fd00::1"):
        assert forbidden_reason(ipaddress.ip_address(address), allowed), address
    assert forbidden_reason(ipaddress.ip_address("93.184.216.34"), allowed) is None
    # an operator opens a network explicitly
    opened = [d for d in yaml.safe_load_all(helm("template", RELEASE, str(CHART), *AWS, "--set",
                                                 r"config.webhooks.allowedNetworks=10.20.0.0/16\,fd00::/8").stdout) if d]
    allowed = WebhookTargetSettings.from_env(config_map(opened)).webhook_networks
    assert forbidden_reason(ipaddress.ip_address("10.20.3.4"), allowed) is None
    assert forbidden_reason(ipaddress.ip_address("10.21.3.4"), allowed)


def _egress_allows(spec: dict[str, Any], address: str, port: int) -> bool:
    """NetworkPolicy egress semantics for one TCP destination: any rule whose ports and
    peers both match (no ports = every port, no peers = every destination)."""
    ip = ipaddress.ip_address(address)
    for rule in spec["egress"]:
        ports = [p for p in rule.get("ports", []) if p.get("protocol", "TCP") == "TCP"]
        if rule.get("ports") and not any(p["port"] == port for p in ports):
            continue
        peers = rule.get("to")
        if not peers:
            return True
        for peer in peers:
            block = peer.get("ipBlock")
            if block is None:
                continue
            network = ipaddress.ip_network(block["cidr"], strict=False)
            if ip.version == network.version and ip in network and not any(
                    ip in ipaddress.ip_network(e, strict=False) for e in block.get("except", [])
                    if ipaddress.ip_network(e, strict=False).version == ip.version):
                return True
    return False


def test_webhook_deliverer_egress_reaches_public_receivers_dns_and_postgres_only() -> None:
    docs = rendered("aws")
    policy = named(docs, "NetworkPolicy", f"{RELEASE}-webhook-deliverer-egress")["spec"]
    assert policy["policyTypes"] == ["Egress"]
    assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "webhook-deliverer"
    for address in ("93.184.216.34", "8.8.8.8", "2606:4700::1111"):
        assert _egress_allows(policy, address, 443) and _egress_allows(policy, address, 80), address
    for address in ("10.0.0.5", "10.96.0.1", "172.20.0.1", "192.168.1.1", "127.0.0.1", "169.254.169.254",
                    "100.64.0.1", "fd00::1", "fe80::1", "::1"):
        assert not _egress_allows(policy, address, 443), address
        assert not _egress_allows(policy, address, 80), address
    assert not _egress_allows(policy, "93.184.216.34", 22)  # receivers' ports only
    assert _egress_allows(policy, "10.0.12.34", 5432)  # PostgreSQL in the private network
    assert _egress_allows(policy, "10.96.0.10", 53)  # the cluster's DNS
    assert _egress_allows(policy, "10.1.2.3", 4317)  # the OTLP collector of ci/aws-values.yaml
    # a network the operator opens in the guard is opened in the policy too; without it, no OTLP port
    opened = [d for d in yaml.safe_load_all(helm("template", RELEASE, str(CHART), *VALUE_SETS["defaults"], "--set",
                                                 r"config.webhooks.allowedNetworks=10.20.0.0/16\,192.168.7.7").stdout)
              if d]
    policy = named(opened, "NetworkPolicy", f"{RELEASE}-webhook-deliverer-egress")["spec"]
    assert _egress_allows(policy, "10.20.3.4", 8443) and _egress_allows(policy, "192.168.7.7", 443)
    assert not _egress_allows(policy, "10.21.3.4", 443) and not _egress_allows(policy, "192.168.7.8", 443)
    assert not _egress_allows(policy, "10.1.2.3", 4317)
    # the lifecycle worker's egress stays open like the other workers' (S3 endpoints change)
    assert not [p for p in of_kind(docs, "NetworkPolicy") if "Egress" in p["spec"]["policyTypes"]
                and p["metadata"]["name"] != f"{RELEASE}-webhook-deliverer-egress"]
    off = [d for d in yaml.safe_load_all(helm("template", RELEASE, str(CHART), *AWS,
                                              *sets("networkPolicy.webhookEgress.enabled=false")).stdout) if d]
    assert f"{RELEASE}-webhook-deliverer-egress" not in {p["metadata"]["name"] for p in of_kind(off, "NetworkPolicy")}


# -- network, ingress, hooks -----------------------------------------------------------


def test_status_grpc_is_reachable_only_from_the_gateway() -> None:
    docs = rendered("aws")
    policy = named(docs, "NetworkPolicy", f"{RELEASE}-status")["spec"]
    grpc_rules = [r for r in policy["ingress"] if any(p["port"] == "grpc" for p in r["ports"])]
    (rule,) = grpc_rules
    (peer,) = rule["from"]
    assert peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "upload"
    deny = named(docs, "NetworkPolicy", f"{RELEASE}-default-deny")["spec"]
    assert deny["policyTypes"] == ["Ingress"] and "ingress" not in deny


def test_ingress_routes_to_the_gateway_with_tls() -> None:
    docs = rendered("aws")
    public, upload = named(docs, "Ingress", RELEASE), named(docs, "Ingress", f"{RELEASE}-upload")
    for ingress in (public, upload):
        spec = ingress["spec"]
        assert spec["tls"] == [{"secretName": "callsight-tls", "hosts": ["callsight.example.com"]}]
        for path in spec["rules"][0]["http"]["paths"]:
            # the public port only: /readyz and /metrics are on the ops port, which no Ingress names
            assert path["backend"]["service"] == {"name": f"{RELEASE}-upload", "port": {"name": "http"}}
    # Only the upload path streams unbuffered, up to the recording limit; everything else is
    # buffered whole by the controller, with a small body and a bound on connections per client.
    assert [(p["path"], p["pathType"]) for p in upload["spec"]["rules"][0]["http"]["paths"]] == [
        ("/api/ingest/upload", "Exact")]
    up, pub = upload["metadata"]["annotations"], public["metadata"]["annotations"]
    assert up["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "off"
    assert up["nginx.ingress.kubernetes.io/proxy-body-size"] == "510m"
    assert pub["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "on"
    assert pub["nginx.ingress.kubernetes.io/proxy-body-size"] == "2m"
    assert int(pub["nginx.ingress.kubernetes.io/limit-connections"]) > 0


def test_cookies_are_secure_when_the_chart_serves_tls_and_the_proxy_is_believed() -> None:
    def env_of(value_set: str) -> dict[str, str]:
        container = named(rendered(value_set), "Deployment", f"{RELEASE}-upload")["spec"]["template"]["spec"]
        return {e["name"]: e.get("value", "") for e in container["containers"][0]["env"]}

    with_tls = env_of("aws")
    assert with_tls["CALLSIGHT_COOKIE_SECURE"] == "true" and with_tls["CALLSIGHT_TRUSTED_PROXY_HOPS"] == "1"
    assert with_tls["OPS_PORT"] == "9090"
    assert "CALLSIGHT_COOKIE_SECURE" not in env_of("dev")  # plain HTTP on a laptop: a Secure cookie would never come back
    assert config_map(rendered("aws"))["CALLSIGHT_MAX_UPLOAD_BYTES"] == "500000000"


def test_migrations_run_before_new_pods_as_a_hook_job_with_the_upload_image() -> None:
    docs = rendered("aws")
    job = named(docs, "Job", f"{RELEASE}-migrations")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["python", "-m", "callsight.db", "upgrade"]
    upload = named(docs, "Deployment", f"{RELEASE}-upload")["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == upload["image"]
    # Pre-install hooks run before the release's Secret and ServiceAccounts: both come as hooks too.
    url_secret = container["env"][0]["valueFrom"]["secretKeyRef"]["name"]
    assert named(docs, "Secret", url_secret)["metadata"]["annotations"]["helm.sh/hook-weight"] == "-5"
    account = job["spec"]["template"]["spec"]["serviceAccountName"]
    assert named(docs, "ServiceAccount", account)["metadata"]["annotations"]["helm.sh/hook-weight"] == "-20"


def test_dev_jobs_are_plain_per_revision_jobs_that_never_block_helm_wait() -> None:
    # The stand-ins are created by the release itself; a pre-install hook could not reach
    # them, and a post-install hook would deadlock with --wait (pods wait for the schema).
    jobs = {job["metadata"]["name"]: job for job in of_kind(rendered("dev"), "Job")}
    assert set(jobs) == {f"{RELEASE}-migrations-r1", f"{RELEASE}-dev-bootstrap-r1"}
    assert all("helm.sh/hook" not in job["metadata"].get("annotations", {}) for job in jobs.values())
    assert all(job["spec"]["backoffLimit"] >= 4 for job in jobs.values())


def test_dev_values_run_stand_ins_for_every_backing_service() -> None:
    docs = rendered("dev")
    stand_ins = {
        d["metadata"]["name"]: d
        for d in of_kind(docs, "Deployment")
        if d["metadata"]["labels"]["app.kubernetes.io/part-of"] == "callsight-dev"
    }
    images = {name: d["spec"]["template"]["spec"]["containers"][0]["image"] for name, d in stand_ins.items()}
    assert set(images) == {f"{RELEASE}-{c}" for c in ("postgresql", "redis", "s3", "sqs")}
    assert images[f"{RELEASE}-sqs"].startswith("motoserver/moto:")
    assert images[f"{RELEASE}-s3"].startswith("chrislusf/seaweedfs:")
    data = config_map(docs)
    assert data["CALLSIGHT_SQS_ENDPOINT_URL"] == f"http://{RELEASE}-sqs.{NAMESPACE}.svc:5000"
    assert data["CALLSIGHT_S3_ENDPOINT_URL"] == f"http://{RELEASE}-s3.{NAMESPACE}.svc:8333"
    bootstrap = named(docs, "Job", f"{RELEASE}-dev-bootstrap-r1")
    assert "ensure_queues" in bootstrap["spec"]["template"]["spec"]["containers"][0]["args"][0]
    assert not [d for d in of_kind(rendered("aws"), "Deployment") if d["metadata"]["name"].endswith("-sqs")]


# -- helm test ------------------------------------------------------------------------


def test_helm_test_pod_uploads_through_the_ingest_api() -> None:
    docs = rendered("aws")
    pod = named(docs, "Pod", f"{RELEASE}-test-upload-transcribe")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    container = pod["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["CALLSIGHT_TEST_BASE_URL"]["value"] == f"http://{RELEASE}-upload.{NAMESPACE}.svc:8080"
    assert env["CALLSIGHT_TEST_API_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "callsight-smoke-test-api-key",
        "key": "api-key",
    }
    script = named(docs, "ConfigMap", f"{RELEASE}-test-script")["data"]["smoke_test.py"]
    assert script == (CHART / "files" / "smoke_test.py").read_text()
    assert container["command"] == ["python", "/test/smoke_test.py"]


def test_helm_test_is_left_out_without_an_api_key() -> None:
    assert not of_kind(rendered("defaults"), "Pod")
    assert "tests.apiKey" in helm("install", RELEASE, str(CHART), "--dry-run=client", *VALUE_SETS["defaults"]).stdout


class FakeGateway(http.server.BaseHTTPRequestHandler):
    """The two Ingest/REST endpoints the smoke test uses, answering like the gateway."""

    calls: dict[str, int] = {}
    uploads: list[dict[str, Any]] = []

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802
        if self.path != "/api/ingest/upload" or self.headers["X-API-Key"] != "k-123":
            return self._reply(401, {"error": "invalid_api_key"})
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + raw
        )
        parts = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
        call_id = parts["call_id"].get_content().strip()
        audio = parts["file"].get_payload(decode=True)
        type(self).uploads.append({"call_id": call_id, "audio": audio, "order": list(parts)})
        type(self).calls[call_id] = 0
        self._reply(201, {"call_id": call_id, "status": "Queued"})

    def do_GET(self) -> None:  # noqa: N802
        call_id = self.path.rsplit("/", 1)[1]
        polls = type(self).calls[call_id] = type(self).calls[call_id] + 1
        self._reply(200, {"call_id": call_id, "status": "Processing" if polls < 2 else "Done"})


def test_smoke_test_script_uploads_a_wav_and_waits_for_done(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeGateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {
            **os.environ,
            "CALLSIGHT_TEST_BASE_URL": f"http://127.0.0.1:{server.server_port}",
            "CALLSIGHT_TEST_API_KEY": "k-123",
            "CALLSIGHT_TEST_TIMEOUT_S": "60",
        }
        script = str(CHART / "files" / "smoke_test.py")
        # The script polls every 5 s; two polls keep this test near 5 s.
        done = subprocess.run([sys.executable, script], env=env, capture_output=True, text=True, timeout=60)
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stdout + done.stderr
    (upload,) = FakeGateway.uploads
    assert upload["order"] == ["call_id", "language", "file"]
    assert upload["audio"][:4] == b"RIFF" and upload["audio"][8:12] == b"WAVE"
    assert "Done" in done.stdout


# -- skaffold --------------------------------------------------------------------------


def test_skaffold_builds_each_service_and_sets_chart_values_that_exist() -> None:
    config = yaml.safe_load((REPO / "skaffold.yaml").read_text())
    assert re.fullmatch(r"skaffold/v4beta\d+", config["apiVersion"])
    artifacts = {a["image"]: a for a in config["build"]["artifacts"]}
    assert set(artifacts) == {f"callsight-{s}" for s in SERVICES}
    for service in SERVICES:
        artifact = artifacts[f"callsight-{service}"]
        assert artifact["context"] == "."
        assert (REPO / artifact["docker"]["dockerfile"]) == DOCKERFILES[service]
    (release,) = config["deploy"]["helm"]["releases"]
    assert (REPO / release["chartPath"]) == CHART
    profiles = {p["name"]: p for p in config["profiles"]}
    assert set(profiles) == {"dev", "prod"}
    templates = dict(release["setValueTemplates"])
    for patch in profiles["prod"]["patches"]:
        if "/setValueTemplates/" in patch["path"]:
            templates[patch["path"].rsplit("/", 1)[1]] = patch["value"]
    # Every key skaffold sets must exist in the strict schema: render with stand-in values.
    stand_ins = {"repository": "registry.example.com/callsight-x", "tag": "abc1234", "digest": "sha256:" + "a" * 64}
    overrides = [arg for key in templates for arg in ("--set", f"{key}={stand_ins[key.rsplit('.', 1)[1]]}")]
    helm("template", RELEASE, str(CHART), *AWS, *overrides)
    dev_values = [p for p in profiles["dev"]["patches"] if p["path"].endswith("/valuesFiles")][0]["value"]
    assert [REPO / v for v in dev_values] == [CHART / "values-dev.yaml"]
    forwards = {(f["resourceName"], f["port"], f["localPort"]) for f in profiles["dev"]["portForward"]}
    assert forwards == {(f"{RELEASE}-upload", 8080, 8080), (f"{RELEASE}-status", 50051, 50051)}


# -- Dockerfiles -----------------------------------------------------------------------


def dockerfile(service: str) -> str:
    return DOCKERFILES[service].read_text()


def instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile_passes_hadolint(service: str) -> None:
    done = run(
        [tool("hadolint"), "--failure-threshold", "info", str(DOCKERFILES[service])], check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfiles_pass_checkov() -> None:
    paths = [str(DOCKERFILES[s]) for s in SERVICES]
    done = run(
        [
            tool("checkov"),
            "--skip-download",
            "--framework",
            "dockerfile",
            "-o",
            "json",
            *[arg for p in paths for arg in ("-f", p)],
        ],
        check=False,
    )
    reports = json.loads(done.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [f"{c['check_id']} {c['file_path']}" for r in reports for c in r["results"]["failed_checks"]]
    assert not failed, failed


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile_is_multi_stage_slim_and_non_root(service: str) -> None:
    steps = instructions(dockerfile(service))
    bases = [rest for keyword, rest in steps if keyword == "FROM"]
    assert len(bases) >= 2, "builder and runtime stages"
    assert all(re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)? AS \w+", base) for base in bases), bases
    runtime = steps[max(i for i, (k, _) in enumerate(steps) if k == "FROM") :]
    users = [rest for keyword, rest in runtime if keyword == "USER"]
    assert users and re.fullmatch(r"[1-9]\d{3,}(:\d+)?", users[-1]), f"numeric non-root USER, got {users}"
    assert any(k == "COPY" and rest.startswith("--from=builder /opt/venv") for k, rest in runtime)
    assert not [rest for keyword, rest in steps if keyword == "ADD" and re.search(r"https?://", rest)]
    for keyword, rest in steps:
        if keyword == "RUN" and re.search(r"\bpip install\b", rest):
            assert "--no-cache-dir" in rest, rest
    env = " ".join(rest for keyword, rest in runtime if keyword == "ENV")
    assert "HOME=/tmp" in env and "PYTHONDONTWRITEBYTECODE=1" in env
    assert any(k == "COPY" and "libs/callsight" in rest for k, rest in steps), "build context is the repo root"


def test_dockerfiles_expose_the_ports_the_chart_uses() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    exposed = {
        s: {p for k, rest in instructions(dockerfile(s)) if k == "EXPOSE" for p in rest.split()} for s in SERVICES
    }
    assert exposed["upload"] == {str(values["upload"]["port"])}
    assert exposed["status"] == {str(values["status"]["port"]), str(values["status"]["opsPort"])}
    assert exposed["worker"] == {str(values["worker"]["opsPort"])}
    assert exposed["analysis-worker"] == {str(values["analysisWorker"]["opsPort"])}
    assert exposed["lifecycle-worker"] == {str(values["lifecycleWorker"]["opsPort"])}
    assert exposed["webhook-deliverer"] == {str(values["webhookDeliverer"]["opsPort"])}


def test_worker_image_carries_the_joined_hash_checked_model() -> None:
    steps = instructions(dockerfile("worker"))
    runs = " ".join(rest for keyword, rest in steps if keyword == "RUN")
    assert "python -m callsight_worker.model prepare --dir /models/whisper-base" in runs
    assert any(k == "COPY" and rest == "--from=builder /models/whisper-base /models/whisper-base" for k, rest in steps)
    assert "CALLSIGHT_MODEL_DIR=/models/whisper-base" in " ".join(rest for k, rest in steps if k == "ENV")
    assert "services/worker/requirements.txt" in runs


@pytest.mark.parametrize("service", SERVICES)
def test_each_dockerfile_sends_only_what_it_copies(service: str) -> None:
    ignore = DOCKERFILES[service].with_name(DOCKERFILES[service].name + ".dockerignore").read_text().splitlines()
    rules = [line.strip() for line in ignore if line.strip() and not line.startswith("#")]
    assert rules[0] == "*", "allow-list: ignore everything, then re-include"
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    copied = {
        src.rstrip("/")
        for keyword, rest in instructions(dockerfile(service))
        if keyword == "COPY" and not rest.startswith("--from")
        for src in rest.split()[:-1]
    }
    for source in copied:
        assert any(source == a or source.startswith(a + "/") for a in allowed), f"{source} is copied but ignored"


# -- internal services: mutual TLS, assertions, reflection --------------------------------


def _env(docs: list[dict[str, Any]], deployment: str) -> dict[str, str]:
    container = named(docs, "Deployment", f"{RELEASE}-{deployment}")["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


@pytest.mark.parametrize("value_set", ["defaults", "aws"])
def test_grpc_mutual_tls_is_on_by_default_with_a_chart_made_ca_that_works(value_set: str, tmp_path: Path) -> None:
    """The Secrets the chart generates are used as the services use them: the status
    service's pair with client certificates required, the gateway's client pair; a
    handshake under the Service's DNS name succeeds, one without a client certificate
    does not. Reflection is off outside development."""
    from concurrent import futures

    import grpc
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    from callsight import grpc_tls

    docs = rendered(value_set)
    status, upload = _env(docs, "status"), _env(docs, "upload")
    assert status["CALLSIGHT_GRPC_TLS_CLIENT_CA"] and status["CALLSIGHT_GRPC_TLS_CERT"]
    assert upload["CALLSIGHT_GRPC_CLIENT_CERT"] and upload["CALLSIGHT_GRPC_TLS_CA"]
    assert "CALLSIGHT_GRPC_REFLECTION" not in status
    assert "CALLSIGHT_GRPC_REFLECTION" in _env(rendered("dev"), "status")
    assert "CALLSIGHT_INTERNAL_AUTH_KEY" in named(docs, "Secret", f"{RELEASE}-secrets")["stringData"]
    for role in ("server", "client"):
        secret = named(docs, "Secret", f"{RELEASE}-grpc-{role}")
        assert secret["type"] == "kubernetes.io/tls"
        for key in ("ca.crt", "tls.crt", "tls.key"):
            (tmp_path / f"{role}-{key}").write_text(secret["stringData"][key])
    server_tls = grpc_tls.ServerTls(str(tmp_path / "server-tls.crt"), str(tmp_path / "server-tls.key"),
                                    str(tmp_path / "server-ca.crt"))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), server)
    port = grpc_tls.add_port(server, "127.0.0.1:0", server_tls)
    server.start()
    try:
        name = f"{RELEASE}-status.{NAMESPACE}.svc"
        gateway = grpc_tls.ClientTls(str(tmp_path / "client-ca.crt"), str(tmp_path / "client-tls.crt"),
                                     str(tmp_path / "client-tls.key"), server_name=name)
        reply = health_pb2_grpc.HealthStub(grpc_tls.channel(f"127.0.0.1:{port}", gateway)).Check(
            health_pb2.HealthCheckRequest(), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        anonymous = grpc_tls.ClientTls(str(tmp_path / "client-ca.crt"), server_name=name)
        with pytest.raises(grpc.RpcError) as err:
            health_pb2_grpc.HealthStub(grpc_tls.channel(f"127.0.0.1:{port}", anonymous)).Check(
                health_pb2.HealthCheckRequest(), timeout=10)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        server.stop(None)


def test_cert_manager_issues_the_grpc_certificates_when_asked() -> None:
    docs = [d for d in yaml.safe_load_all(helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE, *AWS, *sets(
        "grpcTls.certManager.enabled=true", "grpcTls.certManager.issuerRef.name=callsight-ca")).stdout) if d]
    certificates = {d["metadata"]["name"]: d["spec"] for d in of_kind(docs, "Certificate")}
    assert set(certificates) == {f"{RELEASE}-grpc-server", f"{RELEASE}-grpc-client"}
    assert f"{RELEASE}-status.{NAMESPACE}.svc" in certificates[f"{RELEASE}-grpc-server"]["dnsNames"]
    assert "client auth" in certificates[f"{RELEASE}-grpc-client"]["usages"]
    assert all(c["issuerRef"]["name"] == "callsight-ca" for c in certificates.values())
    assert not [d for d in of_kind(docs, "Secret") if d["metadata"]["name"].startswith(f"{RELEASE}-grpc-")]
    done = helm("template", RELEASE, str(CHART), *AWS, *sets("grpcTls.certManager.enabled=true"), check=False)
    assert done.returncode != 0 and "grpcTls.certManager.issuerRef.name is required" in done.stderr
