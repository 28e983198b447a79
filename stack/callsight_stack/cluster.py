"""A real Kubernetes control plane on loopback, for the live deploy tests and the ops guide.

    python -m callsight_stack.cluster up [--run-dir .run/k8s] [--no-keda]
    python -m callsight_stack.cluster down [--run-dir .run/k8s]

etcd, kube-apiserver, kube-controller-manager and kube-scheduler of the release that
scripts/build-k8s.sh built from source, with kwok simulating the nodes and the pods on
them (no container runtime exists here: a pod is scheduled, then kwok reports it
running and ready, and a Job's pod completed). The KEDA operator and its metrics API
server run beside it, as KEDA runs in a cluster: CRDs installed from the KEDA source
they were built from, and external.metrics.k8s.io served through the API server's
aggregation layer, which is what the HPA controller reads. Every process binds to
127.0.0.1 on free ports and writes a PID file and a log into the run folder; `up`
leaves them running and `down` stops them by those PIDs. Each start is a fresh cluster.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from callsight_stack import pki, servers
from callsight_stack.servers import ProcessSpec, StartError

log = logging.getLogger("callsight.cluster")

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "scripts" / "build-k8s.sh"
KEDA_NAMESPACE = "keda"
KEDA_METRICS_SERVICE = "keda-metrics-apiserver"
KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"
SERVICE_CIDR = "10.96.0.0/16"
# Pod IPs kwok writes into pod status; nothing ever connects to them.
POD_CIDR = "10.244.0.1/16"
# Order of start; stop goes the other way.
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok",
              "keda-operator", "keda-adapter")
PORT_NAMES = ("etcd", "etcd_peer", "apiserver", "controller_manager", "scheduler", "kwok",
              "keda_metrics", "keda_probe", "keda_grpc", "keda_adapter", "keda_adapter_metrics")


def build(quiet: bool = False) -> Path:
    """Run scripts/build-k8s.sh (seconds when built, ~25 min cold) and return the folder it built."""
    done = subprocess.run(["bash", str(BUILD_SCRIPT)], stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL if quiet else None, text=True)
    if done.returncode != 0:
        raise StartError(f"{BUILD_SCRIPT} failed with exit code {done.returncode}")
    return Path(done.stdout.strip().splitlines()[-1])


def kubectl_binary() -> str:
    tools = Path(os.environ.get("CALLSIGHT_TOOLS_DIR", REPO / ".tools")) / "bin" / "kubectl"
    if tools.exists():
        return str(tools)
    found = shutil.which("kubectl")
    if not found:
        raise StartError("kubectl not found: run `bash scripts/install-k8s-tools.sh`")
    return found


def _https_ok(url: str, context: ssl.SSLContext) -> Callable[[], bool]:
    def healthy() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    return healthy


def _insecure_context() -> ssl.SSLContext:
    """For the health endpoints of components whose serving certificate they make themselves."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class LocalCluster:
    """One control plane rooted at `run_dir` (certificates, etcd data, kubeconfig, logs, PIDs)."""

    def __init__(self, run_dir: Path, build_dir: Path, *, keda: bool = True, nodes: int = 3) -> None:
        self.run_dir = run_dir.resolve()
        self.build_dir = build_dir
        self.keda = keda
        self.nodes = nodes
        self.logs = self.run_dir / "logs"
        self.pki_dir = self.run_dir / "pki"
        self.kubeconfig = self.run_dir / "kubeconfig"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.ports: dict[str, int] = {}

    def bin(self, name: str) -> str:
        path = self.build_dir / "bin" / name
        if not path.exists():
            raise StartError(f"{path} is missing: run `bash scripts/build-k8s.sh`")
        return str(path)

    # ---- lifecycle --------------------------------------------------------------------

    def start(self) -> Path:
        """Start everything, wait until nodes are ready (and KEDA serves metrics); return the kubeconfig."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start_all()
        except BaseException:
            self.stop()
            raise
        return self.kubeconfig

    def _start_all(self) -> None:
        t0 = time.monotonic()
        # A fresh cluster on every start: ports change, and nothing in it is worth keeping.
        shutil.rmtree(self.run_dir / "etcd", ignore_errors=True)
        self.ports = self._choose_ports()
        certs = self._certificates()
        self._write_kubeconfig(certs["admin"])
        self._start(self._etcd())
        self._start(self._apiserver(certs))
        self._start(self._controller_manager())
        self._start(self._scheduler())
        self._start(self._kwok())
        self._add_nodes()
        if self.keda:
            self._install_keda_crds()
            self._start(self._keda_operator())
            self._start(self._keda_adapter())
            self._register_external_metrics(certs["ca"])
        log.info("local Kubernetes ready in %.1f s (kubeconfig %s)", time.monotonic() - t0, self.kubeconfig)

    def _start(self, spec: ProcessSpec) -> None:
        t0 = time.monotonic()
        proc = servers.spawn(spec, self.logs, self.run_dir)
        self.procs[spec.name] = proc
        servers.wait_healthy(spec, proc, self.logs / f"{spec.name}.log")
        log.info("%s healthy in %.1f s (pid %d)", spec.name, time.monotonic() - t0, proc.pid)

    def stop(self) -> None:
        """Stop every component this object started, or whose PID file is in the run folder."""
        for name in reversed(COMPONENTS):
            proc = self.procs.pop(name, None)
            pid_file = self.run_dir / f"{name}.pid"
            if proc is not None:
                if proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait(timeout=10)
            elif pid_file.exists():
                _stop_pid(int(pid_file.read_text()))
            pid_file.unlink(missing_ok=True)

    def _choose_ports(self) -> dict[str, int]:
        ports: dict[str, int] = {}
        for name in PORT_NAMES:
            port = servers.free_port()
            while port in ports.values():
                port = servers.free_port()
            ports[name] = port
        (self.run_dir / "ports.json").write_text(json.dumps(ports, indent=2))
        return ports

    # ---- certificates and the kubeconfig -----------------------------------------------

    def _certificates(self) -> dict[str, pki.Pair]:
        ca = pki.Authority(self.pki_dir)
        keda_names = tuple(
            f"{service}.{KEDA_NAMESPACE}.svc{suffix}"
            for service in ("keda-operator", KEDA_METRICS_SERVICE) for suffix in ("", ".cluster.local")
        )
        return {
            "ca": ca.ca,
            "apiserver": ca.issue(
                "apiserver", "kube-apiserver", server=True, ips=("127.0.0.1", "10.96.0.1"),
                dns=("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                     "kubernetes.default.svc.cluster.local"),
            ),
            # system:masters: the tests, helm, the controllers and KEDA all act as cluster admin.
            "admin": ca.issue("admin", "callsight-admin", organization="system:masters", client=True),
            "front-proxy": ca.issue("front-proxy", "front-proxy-client", client=True),
            "keda": ca.issue("keda", "keda", server=True, client=True, dns=("localhost", *keda_names),
                             ips=("127.0.0.1",)),
            "sa": pki.service_account_keys(self.pki_dir),
        }

    def _write_kubeconfig(self, admin: pki.Pair) -> None:
        def b64(path: Path) -> str:
            return base64.b64encode(path.read_bytes()).decode()

        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "local", "cluster": {
                "server": f"https://127.0.0.1:{self.ports['apiserver']}",
                "certificate-authority-data": b64(self.pki_dir / "ca.crt"),
            }}],
            "users": [{"name": "admin", "user": {
                "client-certificate-data": b64(admin.cert), "client-key-data": b64(admin.key),
            }}],
            "contexts": [{"name": "local", "context": {"cluster": "local", "user": "admin"}}],
            "current-context": "local",
        }
        self.kubeconfig.write_text(json.dumps(config, indent=2))
        self.kubeconfig.chmod(0o600)

    def _admin_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.pki_dir / "ca.crt"))
        context.load_cert_chain(str(self.pki_dir / "admin.crt"), str(self.pki_dir / "admin.key"))
        return context

    # ---- the control plane ---------------------------------------------------------------

    def _etcd(self) -> ProcessSpec:
        client = f"http://127.0.0.1:{self.ports['etcd']}"
        peer = f"http://127.0.0.1:{self.ports['etcd_peer']}"
        return ProcessSpec(
            name="etcd",
            argv=[
                self.bin("etcd"), "--name", "local", "--data-dir", str(self.run_dir / "etcd"),
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", f"local={peer}", "--initial-cluster-state", "new",
                # A test cluster: losing the last writes on a power cut is fine, waiting for fsync is not.
                "--unsafe-no-fsync", "--log-level", "warn",
            ],
            healthy=servers.http_ok(f"{client}/health"),
        )

    def _apiserver(self, certs: dict[str, pki.Pair]) -> ProcessSpec:
        port = self.ports["apiserver"]
        return ProcessSpec(
            name="kube-apiserver",
            argv=[
                self.bin("kube-apiserver"),
                "--etcd-servers", f"http://127.0.0.1:{self.ports['etcd']}",
                "--bind-address", "127.0.0.1", "--secure-port", str(port),
                "--advertise-address", "127.0.0.1",
                # No kube-proxy routes to this address: keep the `kubernetes` Service without endpoints.
                "--endpoint-reconciler-type", "none",
                "--cert-dir", str(self.pki_dir),
                "--tls-cert-file", str(certs["apiserver"].cert),
                "--tls-private-key-file", str(certs["apiserver"].key),
                "--client-ca-file", str(certs["ca"].cert),
                "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
                "--service-account-key-file", str(certs["sa"].cert),
                "--service-account-signing-key-file", str(certs["sa"].key),
                "--service-cluster-ip-range", SERVICE_CIDR,
                "--authorization-mode", "Node,RBAC",
                "--allow-privileged=true",
                "--profiling=false",
                # The aggregation layer (external.metrics.k8s.io from KEDA).
                "--requestheader-client-ca-file", str(certs["ca"].cert),
                "--requestheader-allowed-names", "front-proxy-client",
                "--requestheader-username-headers", "X-Remote-User",
                "--requestheader-group-headers", "X-Remote-Group",
                "--requestheader-extra-headers-prefix", "X-Remote-Extra-",
                "--proxy-client-cert-file", str(certs["front-proxy"].cert),
                "--proxy-client-key-file", str(certs["front-proxy"].key),
            ],
            healthy=_https_ok(f"https://127.0.0.1:{port}/readyz", self._admin_context()),
            start_timeout_s=120,
        )

    def _controller_manager(self) -> ProcessSpec:
        port = self.ports["controller_manager"]
        kubeconfig = str(self.kubeconfig)
        return ProcessSpec(
            name="kube-controller-manager",
            argv=[
                self.bin("kube-controller-manager"),
                "--kubeconfig", kubeconfig,
                "--authentication-kubeconfig", kubeconfig, "--authorization-kubeconfig", kubeconfig,
                "--bind-address", "127.0.0.1", "--secure-port", str(port),
                "--leader-elect=false",
                "--service-account-private-key-file", str(self.pki_dir / "sa.key"),
                "--root-ca-file", str(self.pki_dir / "ca.crt"),
                "--cluster-signing-cert-file", str(self.pki_dir / "ca.crt"),
                "--cluster-signing-key-file", str(self.pki_dir / "ca.key"),
                "--use-service-account-credentials=false",
                "--service-cluster-ip-range", SERVICE_CIDR,
                # The HPA (KEDA's included) acts every 5 s instead of 15 s: tests wait less.
                "--horizontal-pod-autoscaler-sync-period", "5s",
            ],
            healthy=_https_ok(f"https://127.0.0.1:{port}/healthz", _insecure_context()),
        )

    def _scheduler(self) -> ProcessSpec:
        port = self.ports["scheduler"]
        kubeconfig = str(self.kubeconfig)
        return ProcessSpec(
            name="kube-scheduler",
            argv=[
                self.bin("kube-scheduler"),
                "--kubeconfig", kubeconfig,
                "--authentication-kubeconfig", kubeconfig, "--authorization-kubeconfig", kubeconfig,
                "--bind-address", "127.0.0.1", "--secure-port", str(port),
                "--leader-elect=false",
            ],
            healthy=_https_ok(f"https://127.0.0.1:{port}/healthz", _insecure_context()),
        )

    def _kwok(self) -> ProcessSpec:
        port = self.ports["kwok"]
        return ProcessSpec(
            name="kwok",
            argv=[
                self.bin("kwok"),
                "--kubeconfig", str(self.kubeconfig),
                "--config", str(self.build_dir / "kwok-stages.yaml"),
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector", f"{KWOK_NODE_ANNOTATION}=fake",
                "--node-lease-duration-seconds", "40",
                "--cidr", POD_CIDR,
                "--server-address", f"127.0.0.1:{port}",
            ],
            healthy=servers.http_ok(f"http://127.0.0.1:{port}/healthz"),
        )

    def _add_nodes(self) -> None:
        """Simulated nodes, spread over three zones; each fits several Callsight workers."""
        zones = ("zone-a", "zone-b", "zone-c")
        nodes = []
        for i in range(self.nodes):
            name = f"kwok-node-{i}"
            capacity = {"cpu": "16", "memory": "64Gi", "pods": "110", "ephemeral-storage": "200Gi"}
            nodes.append({
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "annotations": {KWOK_NODE_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
                    "labels": {
                        "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64", "type": "kwok",
                        "topology.kubernetes.io/zone": zones[i % len(zones)],
                    },
                },
                "status": {"capacity": capacity, "allocatable": capacity},
            })
        self.kubectl("apply", "--server-side", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                                                            "items": nodes}))
        self.kubectl("wait", "--for=condition=Ready", "node", "--all", "--timeout=60s")

    # ---- KEDA -------------------------------------------------------------------------------

    def _keda_cert_dir(self) -> Path:
        """KEDA reads ca.crt, tls.crt and tls.key from one folder (its `kedaorg-certs` Secret in a cluster)."""
        folder = self.run_dir / "keda-certs"
        folder.mkdir(exist_ok=True)
        for source, target in (("ca.crt", "ca.crt"), ("keda.crt", "tls.crt"), ("keda.key", "tls.key")):
            shutil.copyfile(self.pki_dir / source, folder / target)
        (folder / "tls.key").chmod(0o600)
        return folder

    def _keda_env(self) -> dict[str, str]:
        return {
            "KUBECONFIG": str(self.kubeconfig),
            "WATCH_NAMESPACE": "",  # every namespace
            "POD_NAMESPACE": KEDA_NAMESPACE,
            "POD_NAME": "keda-operator",
            "KEDA_CLUSTER_OBJECT_NAMESPACE": KEDA_NAMESPACE,
        }

    def _install_keda_crds(self) -> None:
        self.kubectl("create", "namespace", KEDA_NAMESPACE, "--dry-run=client", "-o", "json", check=True,
                     then=("apply", "--server-side", "-f", "-"))
        self.kubectl("apply", "--server-side", "--validate=strict", "-f", str(self.build_dir / "keda-crds"))
        self.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")

    def _keda_operator(self) -> ProcessSpec:
        certs = self._keda_cert_dir()
        probe = self.ports["keda_probe"]
        return ProcessSpec(
            name="keda-operator",
            argv=[
                self.bin("keda-operator"),
                "--leader-elect=false",
                "--metrics-bind-address", f"127.0.0.1:{self.ports['keda_metrics']}",
                "--health-probe-bind-address", f"127.0.0.1:{probe}",
                "--metrics-service-bind-address", f"127.0.0.1:{self.ports['keda_grpc']}",
                "--cert-dir", str(certs), "--ca-dir", str(certs),
                "--enable-cert-rotation=false",
                "--zap-log-level=info", "--zap-encoder=console",
            ],
            env=self._keda_env(),
            healthy=servers.http_ok(f"http://127.0.0.1:{probe}/readyz"),
        )

    def _keda_adapter(self) -> ProcessSpec:
        certs = self.run_dir / "keda-certs"
        port = self.ports["keda_adapter"]
        kubeconfig = str(self.kubeconfig)
        return ProcessSpec(
            name="keda-adapter",
            argv=[
                self.bin("keda-adapter"),
                "--bind-address", "127.0.0.1", "--secure-port", str(port),
                "--cert-dir", str(certs),
                "--tls-cert-file", str(certs / "tls.crt"), "--tls-private-key-file", str(certs / "tls.key"),
                "--client-ca-file", str(certs / "ca.crt"),
                "--authentication-kubeconfig", kubeconfig, "--authorization-kubeconfig", kubeconfig,
                "--lister-kubeconfig", kubeconfig,
                "--metrics-service-address", f"127.0.0.1:{self.ports['keda_grpc']}",
                "--port", str(self.ports["keda_adapter_metrics"]),
                "--zap-log-level=info", "--zap-encoder=console",
            ],
            env=self._keda_env(),
            healthy=_https_ok(f"https://127.0.0.1:{port}/readyz", _insecure_context()),
        )

    def _register_external_metrics(self, ca: pki.Pair) -> None:
        """external.metrics.k8s.io → the adapter on loopback. The API server proxies an APIService
        to its Service: an ExternalName Service resolves to `localhost` and the adapter's port."""
        port = self.ports["keda_adapter"]
        objects = [
            {
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": KEDA_METRICS_SERVICE, "namespace": KEDA_NAMESPACE},
                "spec": {"type": "ExternalName", "externalName": "localhost",
                         "ports": [{"name": "https", "port": port, "targetPort": port}]},
            },
            {
                "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
                "metadata": {"name": "v1beta1.external.metrics.k8s.io"},
                "spec": {
                    "service": {"name": KEDA_METRICS_SERVICE, "namespace": KEDA_NAMESPACE, "port": port},
                    "group": "external.metrics.k8s.io", "version": "v1beta1",
                    "caBundle": base64.b64encode(ca.cert.read_bytes()).decode(),
                    "groupPriorityMinimum": 100, "versionPriority": 100,
                },
            },
        ]
        self.kubectl("apply", "--server-side", "--force-conflicts", "--validate=strict", "-f", "-",
                     stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
        self.kubectl("wait", "--for=condition=Available", "apiservice/v1beta1.external.metrics.k8s.io",
                     "--timeout=90s")

    # ---- kubectl ------------------------------------------------------------------------------

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True,
                then: tuple[str, ...] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """kubectl against this cluster; `then` pipes this command's output into a second one."""
        argv = [kubectl_binary(), "--kubeconfig", str(self.kubeconfig), *args]
        done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout)
        if then is not None and done.returncode == 0:
            return self.kubectl(*then, stdin=done.stdout, check=check, timeout=timeout)
        if check and done.returncode != 0:
            raise StartError(f"kubectl {' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}")
        return done


def _stop_pid(pid: int, timeout_s: float = 20) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m callsight_stack.cluster")
    parser.add_argument("command", choices=["up", "down", "build"])
    parser.add_argument("--run-dir", type=Path, default=Path(".run/k8s"))
    parser.add_argument("--no-keda", action="store_true", help="the control plane and kwok only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.command == "build":
        print(build())
        return 0
    if args.command == "down":
        LocalCluster(args.run_dir, Path()).stop()
        print("local Kubernetes stopped")
        return 0
    cluster = LocalCluster(args.run_dir, build(), keda=not args.no_keda)
    cluster.stop()  # whatever an earlier `up` in this folder left running
    try:
        kubeconfig = cluster.start()
    except StartError as exc:
        print(f"local Kubernetes failed to start: {exc}\nLogs: {cluster.logs}", file=sys.stderr)
        return 1
    print(f"local Kubernetes is up. export KUBECONFIG={kubeconfig}\n"
          f"Logs: {cluster.logs}   Stop: python -m callsight_stack.cluster down --run-dir {args.run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
