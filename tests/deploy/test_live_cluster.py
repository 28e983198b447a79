"""The chart on a live Kubernetes control plane, with KEDA reading the real queue.

A real kube-apiserver/controller-manager/scheduler of the chart's Kubernetes release,
kwok nodes and pods, and the KEDA operator and metrics API server, all built from
source by scripts/build-k8s.sh and started by the project's launcher
(callsight_stack.cluster), with the local stack's SQS server (ElasticMQ) beside it.
The tests run in order on one release, as an operator would:

install (--wait, the migrations hook) → strict validation of every object → KEDA scales
workers up on queue depth and back down when it drains → upgrade to scale-to-zero →
rollback → KEDA off: `kubectl scale` is honoured under the CPU HPA → rollback to KEDA.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from callsight.provision import ensure_queues
from callsight_stack import cluster as local_cluster
from callsight_stack import servers
from callsight_stack.cluster import LocalCluster

pytestmark = pytest.mark.deploy

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "deploy" / "helm" / "callsight"
LOCAL_VALUES = CHART / "values-local-cluster.yaml"
TOOLS = Path(os.environ.get("CALLSIGHT_TOOLS_DIR", REPO / ".tools"))
RELEASE = "callsight"
NAMESPACE = "callsight"
WORKER = f"{RELEASE}-worker"
# the lifecycle worker and the webhook deliverer: fixed replicas, polling PostgreSQL
POLLERS = (f"{RELEASE}-lifecycle-worker", f"{RELEASE}-webhook-deliverer")
DEPLOYMENTS = (f"{RELEASE}-upload", f"{RELEASE}-status", WORKER, f"{RELEASE}-analysis-worker", *POLLERS)
QUEUE = "callsight-jobs"
ANALYSIS_QUEUE = "callsight-analysis"
AWS_KEYS = {"AWS_ACCESS_KEY_ID": "local-cluster", "AWS_SECRET_ACCESS_KEY": "local-cluster-secret"}
# Read from the chart values the release is installed with.
LOCAL = yaml.safe_load(LOCAL_VALUES.read_text())
QUEUE_LENGTH = yaml.safe_load((CHART / "values.yaml").read_text())["worker"]["autoscaling"]["keda"]["queueLength"]
MIN_REPLICAS = LOCAL["worker"]["autoscaling"]["minReplicas"]
MAX_REPLICAS = LOCAL["worker"]["autoscaling"]["maxReplicas"]


def wait_for(what: str, probe: Callable[[], Any], timeout_s: float = 120, every_s: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what} (last: {last!r})")


# -- the servers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqs_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The local stack's SQS server, started by its launcher spec, with the job queues."""
    folder = tmp_path_factory.mktemp("sqs")
    port = servers.free_port()
    spec = servers.sqs_spec(port, folder / "data")
    proc = servers.spawn(spec, folder / "logs", folder)
    try:
        servers.wait_healthy(spec, proc, folder / "logs" / f"{spec.name}.log")
        env = {"CALLSIGHT_SQS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_REGION": "us-east-1", **AWS_KEYS}
        queue_url, dlq_url = ensure_queues(env, QUEUE, f"{QUEUE}-dlq")
        analysis_url, analysis_dlq_url = ensure_queues(env, ANALYSIS_QUEUE, f"{ANALYSIS_QUEUE}-dlq")
        yield {**env, "CALLSIGHT_SQS_QUEUE_URL": queue_url, "CALLSIGHT_SQS_DLQ_URL": dlq_url,
               "CALLSIGHT_ANALYSIS_QUEUE_URL": analysis_url, "CALLSIGHT_ANALYSIS_DLQ_URL": analysis_dlq_url}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def k8s() -> Iterator[LocalCluster]:
    run_dir = Path(tempfile.mkdtemp(prefix="callsight-k8s-", dir="/tmp"))
    cluster = LocalCluster(run_dir, local_cluster.build())
    try:
        cluster.start()
    except Exception:
        for log in sorted((run_dir / "logs").glob("*.log")):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")
        raise
    yield cluster
    cluster.stop()
    if not os.environ.get("CALLSIGHT_KEEP_TEST_STACK"):
        shutil.rmtree(run_dir, ignore_errors=True)
    else:
        print(f"cluster folder kept: {run_dir}")


@pytest.fixture(scope="module")
def sqs(sqs_env: dict[str, str]) -> Any:
    from callsight.aws import clients_from_env

    return clients_from_env(sqs_env)[1]


def helm(k8s: LocalCluster, *args: str, check: bool = True) -> str:
    import subprocess

    helm_bin = TOOLS / "bin" / "helm"
    if not helm_bin.exists():
        pytest.fail(f"helm is not installed in {helm_bin}: run `bash scripts/install-k8s-tools.sh`")
    done = subprocess.run([str(helm_bin), "--kubeconfig", str(k8s.kubeconfig), *args], capture_output=True,
                          text=True, timeout=600, cwd=REPO)
    if check and done.returncode != 0:
        pytest.fail(f"helm {' '.join(args[:2])} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout + done.stderr


def stack_values(sqs_env: dict[str, str]) -> list[str]:
    """What docs/operations.md passes from .run/stack.env: the live queue and its keys."""
    pairs = {
        "config.sqs.queueUrl": sqs_env["CALLSIGHT_SQS_QUEUE_URL"],
        "config.sqs.dlqUrl": sqs_env["CALLSIGHT_SQS_DLQ_URL"],
        "config.sqs.analysisQueueUrl": sqs_env["CALLSIGHT_ANALYSIS_QUEUE_URL"],
        "config.sqs.analysisDlqUrl": sqs_env["CALLSIGHT_ANALYSIS_DLQ_URL"],
        "config.sqs.endpointUrl": sqs_env["CALLSIGHT_SQS_ENDPOINT_URL"],
        "config.s3.endpointUrl": "http://127.0.0.1:8333",
        "secrets.awsAccessKeyId": sqs_env["AWS_ACCESS_KEY_ID"],
        "secrets.awsSecretAccessKey": sqs_env["AWS_SECRET_ACCESS_KEY"],
    }
    return ["-f", str(LOCAL_VALUES), *[arg for k, v in pairs.items() for arg in ("--set", f"{k}={v}")]]


def get(k8s: LocalCluster, *what: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(k8s.kubectl("get", "-n", NAMESPACE, *what, "-o", "json").stdout)
    return parsed


def worker_replicas(k8s: LocalCluster) -> tuple[int, int]:
    """(spec.replicas, ready replicas) of the worker Deployment."""
    deployment = get(k8s, "deployment", WORKER)
    return int(deployment["spec"].get("replicas", 0)), int(deployment["status"].get("readyReplicas", 0))


def wait_workers(k8s: LocalCluster, replicas: int, timeout_s: float = 120) -> None:
    wait_for(f"{replicas} ready workers", lambda: worker_replicas(k8s) == (replicas, replicas) or None,
             timeout_s=timeout_s)


def worker_scaled_object(k8s: LocalCluster) -> bool:
    names = {so["metadata"]["name"] for so in get(k8s, "scaledobjects")["items"]}
    return WORKER in names


def revision(k8s: LocalCluster) -> int:
    history = json.loads(helm(k8s, "history", RELEASE, "-n", NAMESPACE, "-o", "json"))
    return int(history[-1]["revision"])


def send_jobs(sqs: Any, queue_url: str, count: int) -> None:
    for i in range(0, count, 10):
        entries = [{"Id": str(n), "MessageBody": f"job-{n}"} for n in range(i, min(count, i + 10))]
        sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)


def drain(sqs: Any, queue_url: str) -> int:
    """Receive and delete every job, as workers finishing them would."""
    done = 0
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return done
        sqs.delete_message_batch(QueueUrl=queue_url,
                                 Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
        done += len(got)


@pytest.fixture(scope="module")
def release(k8s: LocalCluster, sqs_env: dict[str, str]) -> dict[str, Any]:
    """`helm install --wait`: the migrations hook Job must complete and every Deployment be available."""
    t0 = time.monotonic()
    out = helm(k8s, "install", RELEASE, str(CHART), "-n", NAMESPACE, "--create-namespace",
               *stack_values(sqs_env), "--wait", "--timeout", "5m")
    return {"output": out, "seconds": time.monotonic() - t0}


# -- install ----------------------------------------------------------------------------


def test_the_control_plane_is_the_release_the_chart_targets(k8s: LocalCluster) -> None:
    version = json.loads(k8s.kubectl("version", "-o", "json").stdout)["serverVersion"]
    wanted = (REPO / "stack" / "k8s" / "control-plane" / "go.mod").read_text()
    assert f"k8s.io/kubernetes {version['gitVersion']}" in wanted
    nodes = json.loads(k8s.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    ready = [n for n in nodes if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"])]
    assert len(ready) == len(nodes) >= 3


def test_helm_install_waits_for_the_migrations_hook_and_every_deployment(k8s: LocalCluster,
                                                                        release: dict[str, Any]) -> None:
    assert "STATUS: deployed" in release["output"], release["output"]
    # The hook Job is deleted once it succeeds (hook-delete-policy); its events remain.
    events = get(k8s, "events", "--field-selector", f"involvedObject.kind=Job,involvedObject.name={RELEASE}-migrations")
    assert "Completed" in {e["reason"] for e in events["items"]}, events["items"]
    deployments = get(k8s, "deployments")["items"]
    assert set(DEPLOYMENTS) <= {d["metadata"]["name"] for d in deployments}
    for deployment in deployments:
        available = {c["type"]: c["status"] for c in deployment["status"]["conditions"]}
        assert available.get("Available") == "True", (deployment["metadata"]["name"], deployment["status"])
        assert deployment["status"]["readyReplicas"] == deployment["spec"]["replicas"] >= 1
    for name in POLLERS:  # the chart's replica count, every pod ready, not left to an autoscaler
        deployment = get(k8s, "deployment", name)
        assert deployment["status"].get("availableReplicas") == deployment["spec"]["replicas"] >= 1, deployment["status"]
        assert not [h for h in get(k8s, "hpa")["items"] if h["spec"]["scaleTargetRef"]["name"] == name]
    pods = get(k8s, "pods")["items"]
    assert pods and all(p["spec"].get("nodeName", "").startswith("kwok-node-") for p in pods)
    assert all(p["status"]["phase"] == "Running" for p in pods), [p["status"]["phase"] for p in pods]


def test_pdbs_network_policies_and_keda_objects_are_accepted(k8s: LocalCluster, release: dict[str, Any]) -> None:
    pdbs = {p["metadata"]["name"] for p in get(k8s, "poddisruptionbudgets.policy")["items"]}
    assert set(DEPLOYMENTS) <= pdbs
    policies = {p["metadata"]["name"] for p in get(k8s, "networkpolicies.networking.k8s.io")["items"]}
    assert {f"{RELEASE}-default-deny", f"{RELEASE}-webhook-deliverer-egress", *DEPLOYMENTS} <= policies, policies
    # KEDA read the ScaledObject, made its HPA and can read the queue.
    scaled = wait_for("the ScaledObject to be Ready", lambda: (
        (so := get(k8s, "scaledobject", WORKER))
        and any(c["type"] == "Ready" and c["status"] == "True" for c in so.get("status", {}).get("conditions", []))
        and so), timeout_s=60)
    assert scaled["status"]["hpaName"] == f"keda-hpa-{WORKER}"
    get(k8s, "hpa", f"keda-hpa-{WORKER}")


def test_every_object_passes_strict_server_side_field_validation(k8s: LocalCluster, sqs_env: dict[str, str],
                                                                   release: dict[str, Any], tmp_path: Path) -> None:
    """Every manifest the chart renders (hooks included) created with fieldValidation=Strict
    (a dry run in a namespace of its own): an unknown or duplicated field anywhere is an
    error, in KEDA's CRDs too, where the API server would otherwise drop it with a warning.
    (helm itself applies server-side, which refuses undeclared fields as well.)"""
    namespace = "strict-check"
    k8s.kubectl("create", "namespace", namespace)
    rendered = helm(k8s, "template", RELEASE, str(CHART), "-n", namespace, *stack_values(sqs_env))
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    assert {"Deployment", "Job", "ScaledObject", "TriggerAuthentication", "PodDisruptionBudget",
            "NetworkPolicy", "Ingress"} <= {d["kind"] for d in docs}

    def create(text: str, validate: str) -> Any:
        (tmp_path / "objects.yaml").write_text(text)
        return k8s.kubectl("create", "-n", namespace, "--dry-run=server", f"--validate={validate}",
                           "-f", str(tmp_path / "objects.yaml"), check=False)

    done = create(rendered, "strict")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip().splitlines()) == len(docs), done.stdout
    # The same check refuses a misspelled field, in a core kind and in KEDA's, which a
    # lax create would take (dropping the field).
    for kind, path in (("Deployment", ("spec", "template", "spec")), ("ScaledObject", ("spec",))):
        doc = json.loads(json.dumps(next(d for d in docs if d["kind"] == kind)))
        node = doc
        for key in path:
            node = node[key]
        node["replica"] = 3
        bad = create(yaml.safe_dump(doc), "strict")
        assert bad.returncode != 0 and 'unknown field "' in bad.stderr and "replica" in bad.stderr, (kind, bad.stderr)
        lax = create(yaml.safe_dump(doc), "false")
        assert lax.returncode == 0, (kind, lax.stderr)


# -- KEDA on the live queue --------------------------------------------------------------


def test_keda_scales_workers_to_the_queue_depth_and_back_when_it_drains(
        k8s: LocalCluster, sqs: Any, sqs_env: dict[str, str], release: dict[str, Any]) -> None:
    queue_url = sqs_env["CALLSIGHT_SQS_QUEUE_URL"]
    wait_workers(k8s, MIN_REPLICAS)
    jobs = 7
    send_jobs(sqs, queue_url, jobs)
    wanted = min(MAX_REPLICAS, math.ceil(jobs / QUEUE_LENGTH))
    assert wanted > MIN_REPLICAS
    t0 = time.monotonic()
    wait_workers(k8s, wanted)
    up_s = time.monotonic() - t0
    # and it stays there while the jobs wait: no overshoot
    time.sleep(6)
    assert worker_replicas(k8s) == (wanted, wanted)
    # what the HPA read: the queue depth, through the aggregation layer from KEDA's metrics server
    external = get(k8s, "hpa", f"keda-hpa-{WORKER}")["spec"]["metrics"][0]["external"]
    selector = ",".join(f"{k}={v}" for k, v in external["metric"]["selector"]["matchLabels"].items())
    metric = json.loads(k8s.kubectl(
        "get", "--raw", f"/apis/external.metrics.k8s.io/v1beta1/namespaces/{NAMESPACE}/"
        f"{external['metric']['name']}?labelSelector={urllib.parse.quote(selector)}").stdout)
    assert [int(float(i["value"])) for i in metric["items"]] == [jobs]
    assert int(external["target"]["averageValue"]) == QUEUE_LENGTH

    assert drain(sqs, queue_url) == jobs
    t0 = time.monotonic()
    wait_workers(k8s, MIN_REPLICAS)
    print(f"KEDA: 1 -> {wanted} workers in {up_s:.1f} s for {jobs} jobs, back to {MIN_REPLICAS} "
          f"in {time.monotonic() - t0:.1f} s after draining")


def test_upgrade_to_scale_to_zero_then_rollback(k8s: LocalCluster, sqs_env: dict[str, str],
                                                release: dict[str, Any]) -> None:
    before = revision(k8s)
    helm(k8s, "upgrade", RELEASE, str(CHART), "-n", NAMESPACE, *stack_values(sqs_env),
         "--set", "worker.autoscaling.minReplicas=0", "--wait", "--timeout", "5m")
    assert revision(k8s) == before + 1
    assert get(k8s, "scaledobject", WORKER)["spec"]["minReplicaCount"] == 0
    # an empty queue: KEDA takes the workers to zero after the (shortened) cooldown
    wait_workers(k8s, 0, timeout_s=90)

    helm(k8s, "rollback", RELEASE, str(before), "-n", NAMESPACE, "--wait", "--timeout", "5m")
    assert revision(k8s) == before + 2
    assert get(k8s, "scaledobject", WORKER)["spec"]["minReplicaCount"] == MIN_REPLICAS
    wait_workers(k8s, MIN_REPLICAS, timeout_s=90)


def test_kubectl_scale_is_honoured_when_keda_is_off(k8s: LocalCluster, sqs_env: dict[str, str],
                                                    release: dict[str, Any]) -> None:
    helm(k8s, "upgrade", RELEASE, str(CHART), "-n", NAMESPACE, *stack_values(sqs_env),
         "--set", "worker.autoscaling.keda.enabled=false", "--wait", "--timeout", "5m")
    wait_for("the worker's ScaledObject to go", lambda: not worker_scaled_object(k8s), timeout_s=60)
    hpa = get(k8s, "hpa", WORKER)
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"

    k8s.kubectl("scale", "-n", NAMESPACE, f"deployment/{WORKER}", "--replicas=3")
    wait_workers(k8s, 3)
    # several HPA periods (5 s here) later, the operator's choice still stands
    time.sleep(15)
    assert worker_replicas(k8s) == (3, 3)

    # and back to KEDA: the ScaledObject returns and takes the workers to what the queue implies
    first = 1
    helm(k8s, "rollback", RELEASE, str(first), "-n", NAMESPACE, "--wait", "--timeout", "5m")
    wait_for("the worker's ScaledObject to return", lambda: worker_scaled_object(k8s), timeout_s=60)
    wait_workers(k8s, MIN_REPLICAS, timeout_s=120)
