"""helm test: upload a generated WAV through the Ingest API and wait until the call is Done.

Runs with the upload image's python and the standard library only. Exit 0 when
the call reaches Done; 1 with the reason when it fails or the time runs out.
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import wave

BASE_URL = os.environ["CALLSIGHT_TEST_BASE_URL"].rstrip("/")
TIMEOUT_S = int(os.environ.get("CALLSIGHT_TEST_TIMEOUT_S", "900"))
ORG_ID = "helm-test"


def log(message: str) -> None:
    print(f"helm-test: {message}", flush=True)


def api_key() -> str:
    key = os.environ.get("CALLSIGHT_TEST_API_KEY", "")
    if key:
        return key
    # tests.mintApiKey: a key of our own, from the same admin commands an operator uses.
    admin = [sys.executable, "-m", "callsight.admin"]
    subprocess.run([*admin, "create-org", ORG_ID, "--name", "helm test", "--language", "en-US"],
                   check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run([*admin, "create-key", ORG_ID, "--name", "helm test"],
                         check=True, capture_output=True, text=True).stdout
    return str(json.loads(out)["api_key"])


def generated_wav(seconds: float = 3.0, rate: int = 16000) -> bytes:
    """A short mono tone with a rising and falling envelope: small, valid, decodable."""
    frames = bytearray()
    total = int(seconds * rate)
    for n in range(total):
        envelope = math.sin(math.pi * n / total)
        sample = 0.3 * envelope * math.sin(2 * math.pi * 440 * n / rate)
        frames += struct.pack("<h", int(sample * 32767))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(bytes(frames))
    return buffer.getvalue()


def multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    # Text fields first: the gateway streams the file part straight to S3.
    for name, value in fields.items():
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
               "Content-Type: audio/wav\r\n\r\n".encode())
    body.write(content)
    body.write(f"\r\n--{boundary}--\r\n".encode())
    return body.getvalue(), f"multipart/form-data; boundary={boundary}"


def request(method: str, path: str, key: str, body: bytes | None = None, content_type: str = "") -> tuple[int, dict]:
    req = urllib.request.Request(f"{BASE_URL}{path}", data=body, method=method)
    req.add_header("X-API-Key", key)
    req.add_header("Accept", "application/json")
    if content_type:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        text = exc.read().decode(errors="replace")
        try:
            return exc.code, json.loads(text)
        except ValueError:
            return exc.code, {"body": text[:500]}


def main() -> int:
    key = api_key()
    call_id = f"helm-test-{int(time.time())}-{uuid.uuid4().hex[:8]}"
    body, content_type = multipart({"call_id": call_id, "language": "en-US"}, f"{call_id}.wav", generated_wav())
    status, payload = request("POST", "/api/ingest/upload", key, body, content_type)
    if status not in (200, 201, 202):
        log(f"upload failed: HTTP {status} {payload}")
        return 1
    log(f"uploaded {call_id}: HTTP {status}")
    deadline = time.monotonic() + TIMEOUT_S
    last = ""
    while time.monotonic() < deadline:
        status, payload = request("GET", f"/api/calls/{call_id}", key)
        call_status = str(payload.get("status", "")) if status == 200 else f"HTTP {status}"
        if call_status != last:
            log(f"{call_id}: {call_status}")
            last = call_status
        if call_status == "Done":
            return 0
        if call_status == "Failed":
            log(f"the call failed: {payload.get('failure_reason') or payload.get('reason') or payload}")
            return 1
        time.sleep(5)
    log(f"{call_id} was not Done after {TIMEOUT_S} s (last status: {last}); "
        "are workers running? kubectl get scaledobject,hpa,pods")
    return 1


if __name__ == "__main__":
    sys.exit(main())
