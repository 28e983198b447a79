"""ElasticMQ against moto as the local stack's SQS server: API coverage, restart, speed.

    python -m bench.sqs_servers [--messages 500]     # writes bench/sqs-servers.md

Each server is started by the launcher's own spec (callsight_stack.servers.sqs_spec) on a
free loopback port and put through what Callsight (callsight.jobqueue, callsight.provision)
and KEDA's aws-sqs-queue scaler ask of SQS, a restart with jobs in the queue, and a
send → receive → delete loop of one job at a time, as one worker does it.
docs/sqs-server.md draws the conclusion from these figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from callsight.aws import clients_from_env
from callsight.provision import ensure_queues
from callsight_stack import servers

KINDS = ("elasticmq", "moto")
KEYS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret", "AWS_REGION": "us-east-1"}


class Server:
    """One SQS server process, restartable on the same port and data folder."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind = kind
        self.folder = folder
        self.port = servers.free_port()
        self.spec = servers.sqs_spec(self.port, folder / "data", kind=kind)
        self.proc: subprocess.Popen[bytes] | None = None
        self.env = {**KEYS, "CALLSIGHT_SQS_ENDPOINT_URL": f"http://127.0.0.1:{self.port}"}

    def start(self) -> float:
        t0 = time.monotonic()
        self.proc = servers.spawn(self.spec, self.folder / "logs", self.folder)
        servers.wait_healthy(self.spec, self.proc, self.folder / "logs" / f"{self.spec.name}.log")
        return time.monotonic() - t0

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def rss_mb(self) -> float:
        import psutil

        assert self.proc is not None
        return float(psutil.Process(self.proc.pid).memory_info().rss) / 1e6

    def client(self) -> Any:
        return clients_from_env(self.env)[1]


def coverage(server: Server) -> dict[str, str]:
    """Each call Callsight or KEDA makes: 'ok' or what went wrong."""
    sqs = server.client()
    results: dict[str, str] = {}

    def check(name: str, run: Callable[[], bool]) -> None:
        try:
            results[name] = "ok" if run() else "wrong result"
        except Exception as exc:  # the server's answer is the finding
            results[name] = f"error: {str(exc)[:80]}"

    queue_url, dlq_url = ensure_queues(server.env, "cover", "cover-dlq", max_receive_count=2)
    check("CreateQueue with a RedrivePolicy, GetQueueUrl, SetQueueAttributes (provision.ensure_queues)",
          lambda: bool(queue_url and dlq_url) and ensure_queues(server.env, "cover", "cover-dlq", 2) == (queue_url, dlq_url))
    check("SendMessage with MessageAttributes (trace context)", lambda: bool(sqs.send_message(
        QueueUrl=queue_url, MessageBody="job", MessageAttributes={"traceparent": {"DataType": "String", "StringValue": "00-1"}}
    )["MessageId"]))
    got: dict[str, Any] = {}

    def receive() -> bool:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=1,
                                       MessageAttributeNames=["All"],
                                       MessageSystemAttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
        got.update(messages[0] if messages else {})
        return bool(messages) and messages[0]["MessageAttributes"]["traceparent"]["StringValue"] == "00-1" \
            and messages[0]["Attributes"]["ApproximateReceiveCount"] == "1"

    check("ReceiveMessage with attributes and ApproximateReceiveCount", receive)

    def attributes() -> bool:
        attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed", "CreatedTimestamp"])["Attributes"]
        return attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "1" \
            and "ApproximateNumberOfMessagesDelayed" in attrs and float(attrs["CreatedTimestamp"]) > 0

    check("GetQueueAttributes: visible, in-flight, delayed (KEDA), CreatedTimestamp (reconciler)", attributes)
    check("ChangeMessageVisibility (extend, release)", lambda: sqs.change_message_visibility(
        QueueUrl=queue_url, ReceiptHandle=got["ReceiptHandle"], VisibilityTimeout=0) is not None)

    def redrive() -> bool:
        # received once above; received again until the server moves it (the 3rd receive of 2 allowed)
        receives = 1
        while sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1, VisibilityTimeout=0).get("Messages"):
            receives += 1
            if receives > 5:
                return False
        depth = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        return receives == 2 and depth["ApproximateNumberOfMessages"] == "1"

    check("Redrive to the dead-letter queue after maxReceiveCount", redrive)

    def long_poll() -> bool:
        t0 = time.monotonic()
        sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2)
        return 1.8 <= time.monotonic() - t0 < 4

    check("ReceiveMessage long polling (WaitTimeSeconds) on an empty queue", long_poll)

    def delete() -> bool:
        sqs.send_message(QueueUrl=queue_url, MessageBody="x")
        m = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"][0]
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
        return sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])[
            "Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "0"

    check("DeleteMessage", delete)
    check("SendMessageBatch, DeleteMessageBatch (the deploy test)", lambda: len(sqs.send_message_batch(
        QueueUrl=queue_url, Entries=[{"Id": str(i), "MessageBody": "b"} for i in range(10)])["Successful"]) == 10)

    def bad_input() -> bool:
        try:
            sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle="not-a-handle", VisibilityTimeout=5)
        except sqs.exceptions.ClientError as exc:
            return "ReceiptHandle" in str(exc) or "receipt" in str(exc).lower()
        return False

    check("A bad receipt handle is refused (as SQS does)", bad_input)

    def too_large() -> bool:
        try:
            sqs.send_message(QueueUrl=queue_url, MessageBody="x" * (1024 * 1024 + 1))
        except sqs.exceptions.ClientError:
            return True
        return False

    check("A message over SQS's size limit is refused", too_large)
    return results


def restart(server: Server) -> dict[str, str]:
    """Three jobs in the queue, the server restarted: what is left."""
    sqs = server.client()
    queue_url, _ = ensure_queues(server.env, "restart", "restart-dlq")
    created = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["CreatedTimestamp"])["Attributes"]
    for i in range(3):
        sqs.send_message(QueueUrl=queue_url, MessageBody=f"job-{i}")
    purged_url, _ = ensure_queues(server.env, "purged", "purged-dlq")
    for i in range(2):
        sqs.send_message(QueueUrl=purged_url, MessageBody=f"job-{i}")
    sqs.purge_queue(QueueUrl=purged_url)
    server.stop()
    seconds = server.start()
    sqs = server.client()
    try:
        sqs.get_queue_url(QueueName="restart")
    except sqs.exceptions.ClientError:
        return {"queues after restart": "gone", "jobs after restart": "0 of 3",
                "restart to healthy (s)": f"{seconds:.2f}"}
    attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    return {
        "queues after restart": "kept, same CreatedTimestamp" if attrs["CreatedTimestamp"] == created["CreatedTimestamp"]
        else "kept, new CreatedTimestamp",
        "jobs after restart": f"{attrs['ApproximateNumberOfMessages']} of 3",
        "redrive policy after restart": "kept" if "RedrivePolicy" in attrs else "lost",
        "jobs purged (PurgeQueue) before the restart, back after it": sqs.get_queue_attributes(
            QueueUrl=purged_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"]
        + " of 2",
        "restart to healthy (s)": f"{seconds:.2f}",
    }


def speed(server: Server, messages: int) -> dict[str, str]:
    sqs = server.client()
    queue_url, _ = ensure_queues(server.env, "speed", "speed-dlq")
    sends: list[float] = []
    cycles: list[float] = []
    t0 = time.monotonic()
    for i in range(messages):
        a = time.monotonic()
        sqs.send_message(QueueUrl=queue_url, MessageBody=f"job-{i}" + "x" * 200)
        b = time.monotonic()
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=1)["Messages"][0]
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=got["ReceiptHandle"])
        sends.append(b - a)
        cycles.append(time.monotonic() - a)
    total = time.monotonic() - t0
    return {
        "jobs/s, send → receive → delete, one client": f"{messages / total:.0f}",
        "SendMessage median (ms)": f"{statistics.median(sends) * 1000:.1f}",
        "send → receive → delete p95 (ms)": f"{sorted(cycles)[int(len(cycles) * 0.95)] * 1000:.1f}",
        "RSS after the run (MB)": f"{server.rss_mb():.0f}",
    }


def measure(kind: str, messages: int) -> dict[str, dict[str, str]]:
    with tempfile.TemporaryDirectory(prefix=f"callsight-sqs-{kind}-") as tmp:
        server = Server(kind, Path(tmp))
        try:
            start_s = server.start()
            startup = {"cold start to healthy (s)": f"{start_s:.2f}", "RSS when idle (MB)": f"{server.rss_mb():.0f}"}
            return {"startup": startup, "coverage": coverage(server), "speed": speed(server, messages),
                    "restart": restart(server)}
        finally:
            server.stop()


def render(results: dict[str, dict[str, dict[str, str]]], messages: int) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    lines = ["# SQS servers for the local stack: ElasticMQ and moto", "",
             "Written by `python -m bench.sqs_servers` (never edited by hand).", "",
             f"- machine: {os.cpu_count()} cores, {platform.system()} {platform.release()}",
             f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}", f"- commit: {commit}",
             f"- speed: {messages} jobs, one at a time", ""]
    for section in ("startup", "speed", "restart", "coverage"):
        lines += [f"## {section}", "", "| | " + " | ".join(results) + " |", "|---|" + "---|" * len(results)]
        for row in results[KINDS[0]][section]:
            lines.append(f"| {row} | " + " | ".join(results[k][section].get(row, "-") for k in results) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sqs_servers")
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("sqs-servers.md"))
    args = parser.parse_args()
    results = {kind: measure(kind, args.messages) for kind in KINDS}
    print(json.dumps(results, indent=2))
    args.out.write_text(render(results, args.messages))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
