"""`python -m callsight_stack up|down|status|supervise`.

`up` starts a detached supervisor that brings the stack up and keeps it running
(restarting what dies); it waits until the stack is ready, then prints where to open
it. `down` asks the supervisor to stop everything it started, by PID.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from callsight_stack.servers import StartError
from callsight_stack.stack import Stack

STATE = "state.json"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _read_state(run_dir: Path) -> dict[str, object]:
    path = run_dir / STATE
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write_state(run_dir: Path, **state: object) -> None:
    tmp = run_dir / (STATE + ".tmp")
    tmp.write_text(json.dumps(state))
    tmp.replace(run_dir / STATE)


def supervise(run_dir: Path, workers: int, gateway_port: int | None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s supervisor %(levelname)s %(message)s")
    stack = Stack(run_dir, workers=workers, gateway_port=gateway_port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    _write_state(run_dir, state="starting", pid=os.getpid())
    started = time.monotonic()
    try:
        env = stack.start()
    except (StartError, Exception) as exc:
        _write_state(run_dir, state="failed", pid=os.getpid(), error=str(exc))
        logging.error("stack failed to start: %s", exc)
        return 1
    _write_state(run_dir, state="ready", pid=os.getpid(), url=env["CALLSIGHT_URL"],
                 seconds=round(time.monotonic() - started, 1))
    stack.start_supervisor()
    stop.wait()
    _write_state(run_dir, state="stopping", pid=os.getpid())
    stack.stop()
    _write_state(run_dir, state="stopped")
    return 0


def up(run_dir: Path, workers: int, gateway_port: int | None, timeout_s: float) -> int:
    run_dir.mkdir(parents=True, exist_ok=True)
    state = _read_state(run_dir)
    pid = state.get("pid")
    if isinstance(pid, int) and _pid_alive(pid) and state.get("state") in ("ready", "starting"):
        print(f"Callsight is already running (supervisor pid {pid}); `make down` stops it.")
        return _report(run_dir) if state.get("state") == "ready" else 0
    (run_dir / "logs").mkdir(exist_ok=True)
    argv = [sys.executable, "-m", "callsight_stack", "supervise", "--run-dir", str(run_dir), "--workers", str(workers)]
    if gateway_port:
        argv += ["--port", str(gateway_port)]
    _write_state(run_dir, state="launching")
    with open(run_dir / "logs" / "supervisor.log", "ab") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    (run_dir / "supervisor.pid").write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = _read_state(run_dir)
        if state.get("state") == "ready":
            return _report(run_dir)
        if state.get("state") == "failed" or proc.poll() is not None:
            print(f"Callsight failed to start: {state.get('error', 'see ' + str(run_dir / 'logs'))}", file=sys.stderr)
            print(f"Logs: {run_dir / 'logs'}", file=sys.stderr)
            return 1
        time.sleep(0.5)
    print(f"Callsight did not become ready within {timeout_s:.0f} s; logs in {run_dir / 'logs'}", file=sys.stderr)
    return 1


def _report(run_dir: Path) -> int:
    env = dict(line.split("=", 1) for line in (run_dir / "stack.env").read_text().splitlines() if "=" in line)
    state = _read_state(run_dir)
    print(f"Callsight is up{' in ' + str(state['seconds']) + ' s' if state.get('seconds') else ''}.")
    print(f"  Open:        {env['CALLSIGHT_URL']}/")
    print(f"  API key:     {env['CALLSIGHT_API_KEY']}")
    if env.get("CALLSIGHT_DEMO_USER"):
        print(f"  Demo login:  {env['CALLSIGHT_DEMO_USER']} / {env['CALLSIGHT_DEMO_PASSWORD']}")
    print(f"  gRPC status: {env['CALLSIGHT_GRPC']}")
    print(f"  Try:  curl -X POST {env['CALLSIGHT_URL']}/api/ingest/upload -H \"X-API-Key: $CALLSIGHT_API_KEY\" "
          "-F file=@recording.wav -F call_id=CALL-001 -F language=ja-JP")
    print(f"  Addresses and keys: {run_dir / 'stack.env'}   Logs: {run_dir / 'logs'}   Stop: make down")
    return 0


def down(run_dir: Path, timeout_s: float = 90) -> int:
    pid_file = run_dir / "supervisor.pid"
    if not pid_file.exists():
        print("Callsight is not running.")
        return 0
    pid = int(pid_file.read_text())
    if _pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.3)
    # anything the supervisor could not stop: by the PIDs it wrote, nothing else
    for child in run_dir.glob("*.pid"):
        try:
            child_pid = int(child.read_text())
        except ValueError:
            child.unlink(missing_ok=True)
            continue
        if child_pid != pid and _pid_alive(child_pid):
            os.kill(child_pid, signal.SIGKILL)
        child.unlink(missing_ok=True)
    if _pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    print("Callsight stopped; data kept in", run_dir / "data")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m callsight_stack")
    parser.add_argument("command", choices=["up", "down", "status", "supervise"])
    parser.add_argument("--run-dir", type=Path, default=Path(".run"))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("CALLSIGHT_WORKERS", "2")))
    parser.add_argument("--port", type=int, default=int(os.environ.get("CALLSIGHT_PORT", "0")) or None)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    run_dir = args.run_dir.resolve()
    if args.command == "up":
        return up(run_dir, args.workers, args.port, args.timeout)
    if args.command == "down":
        return down(run_dir)
    if args.command == "supervise":
        return supervise(run_dir, args.workers, args.port)
    state = _read_state(run_dir)
    print(json.dumps(state, indent=2))
    return 0 if state.get("state") == "ready" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
