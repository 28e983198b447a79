"""Every bad input gets a clear error with the right status, and nothing half-made stays."""

from __future__ import annotations

import concurrent.futures
import http.client
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import requests

from tests import audio
from tests.conftest import Api, count_audio_objects, unique

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return audio.encode(tmp_path_factory.mktemp("a") / "speech.wav", [audio.speech("selfish")], "wav")


def _rows(admin: Any) -> int:
    from sqlalchemy import text

    with admin.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM calls WHERE org_id = 'demo'")).scalar_one())


@pytest.mark.parametrize("key,code", [("", "missing_api_key"), ("nope", "invalid_api_key"),
                                      ("csk_00000000_forged-secret", "invalid_api_key")])
def test_missing_or_wrong_key_is_401(api: Api, wav: Path, key: str, code: str) -> None:
    r = api.upload(wav, key=key, call_id=unique("auth"))
    assert r.status_code == 401
    assert r.json()["error"] == code
    assert api.get("/api/calls", key=key).status_code == 401


def test_revoked_key_is_401(api: Api, admin: Any, wav: Path) -> None:
    plaintext, record = admin.orgs.create_api_key("demo", "to revoke")
    assert api.upload(wav, key=plaintext, call_id=unique("rev"), language="en-US").status_code == 201
    assert admin.orgs.revoke_api_key("demo", record.id)
    r = api.upload(wav, key=plaintext, call_id=unique("rev"))
    assert r.status_code == 401 and "revoked" in r.json()["message"]


@pytest.mark.parametrize("fields,fragment", [
    ({"language": "fr-FR"}, "language must be ja-JP or en-US"),
    ({"call_date": "24/11/2026"}, "call_date must be a date"),
    ({"call_date": "2999-01-01"}, "in the future"),
    ({"call_id": "bad\x07id"}, "control"),
    ({"call_id": "a/b"}, "must not contain '/'"),
    ({"operator_id": "x" * 300}, "too long"),
    ({"department": "\u202eevil"}, "control or invisible"),
])
def test_bad_fields_are_400_and_store_nothing(api: Api, admin: Any, s3: Any, wav: Path,
                                              fields: dict[str, str], fragment: str) -> None:
    before = (count_audio_objects(s3), _rows(admin))
    upload_fields: dict[str, Any] = {"call_id": unique("bad"), **fields}
    r = api.upload(wav, **upload_fields)
    assert r.status_code == 400, r.text
    assert fragment in r.json()["message"]
    assert (count_audio_objects(s3), _rows(admin)) == before


def test_fields_after_the_file_are_validated_too(api: Api, admin: Any, s3: Any, wav: Path) -> None:
    before = (count_audio_objects(s3), _rows(admin))
    body, ctype = _multipart([("file", ("x.wav", wav.read_bytes())), ("language", "xx-XX")])
    r = requests.post(f"{api.url}/api/ingest/upload", data=body, headers={"X-API-Key": api.key, "Content-Type": ctype})
    assert r.status_code == 400 and "language" in r.json()["message"]
    assert (count_audio_objects(s3), _rows(admin)) == before


def test_non_audio_is_415_naming_supported_formats(api: Api, admin: Any, s3: Any) -> None:
    before = (count_audio_objects(s3), _rows(admin))
    r = api.upload(content=b"%PDF-1.7\n" + b"x" * 5000, filename="fake.wav", call_id=unique("pdf"))
    assert r.status_code == 415
    assert "WAV, MP3, M4A or OGG" in r.json()["message"]
    assert (count_audio_objects(s3), _rows(admin)) == before


def test_empty_file_is_400(api: Api) -> None:
    r = api.upload(content=b"", filename="empty.wav", call_id=unique("empty"))
    assert r.status_code == 400 and "empty" in r.json()["message"]


def test_no_file_and_not_multipart_are_400(api: Api) -> None:
    r = requests.post(f"{api.url}/api/ingest/upload", headers={"X-API-Key": api.key},
                      files={"call_id": (None, "x")}, timeout=10)
    assert r.status_code == 400 and "'file'" in r.json()["message"]
    r = requests.post(f"{api.url}/api/ingest/upload", headers={"X-API-Key": api.key}, json={"a": 1}, timeout=10)
    assert r.status_code == 400 and "multipart/form-data" in r.json()["message"]


def test_declared_body_over_500_mb_is_413_before_reading(api: Api) -> None:
    url = urlparse(api.url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
    conn.putrequest("POST", "/api/ingest/upload")
    conn.putheader("X-API-Key", api.key)
    conn.putheader("Content-Type", "multipart/form-data; boundary=xyz")
    conn.putheader("Content-Length", str(600 * 1024 * 1024))
    conn.endheaders()
    conn.send(b"--xyz\r\n")
    response = conn.getresponse()
    assert response.status == 413
    assert b"500 MB" in response.read()


def test_streamed_body_over_the_limit_is_413_and_leaves_no_object(
    stack: Any, admin: Any, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunked body (no Content-Length) is cut off as soon as it passes the limit."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, stack.env[name])

    from callsight_upload.app import create_app
    from callsight_upload.settings import GatewaySettings

    settings = GatewaySettings.from_env({**stack.env, "CALLSIGHT_MAX_UPLOAD_BYTES": str(9 * 1024 * 1024)})
    app = create_app(settings)
    wav_head = audio.encode(Path("/tmp") / f"{unique('h')}.wav", [audio.speech("selfish")], "wav").read_bytes()

    def body() -> Any:
        yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.wav\"\r\n\r\n"
        yield wav_head
        for _ in range(20):
            yield b"\0" * (1024 * 1024)
        yield b"\r\n--b--\r\n"

    before = (count_audio_objects(s3), _rows(admin))
    class Chunked:
        """A body of unknown length, read as it is produced (like a chunked request)."""

        def __init__(self) -> None:
            self.parts = body()
            self.buffer = b""

        def read(self, n: int = -1) -> bytes:
            while len(self.buffer) < n or n < 0:
                try:
                    self.buffer += next(self.parts)
                except StopIteration:
                    break
            out, self.buffer = (self.buffer, b"") if n < 0 else (self.buffer[:n], self.buffer[n:])
            return out

    from werkzeug.datastructures import Headers
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path="/api/ingest/upload", method="POST", headers=Headers({
        "X-API-Key": stack.env["CALLSIGHT_API_KEY"], "Content-Type": "multipart/form-data; boundary=b"})).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ["CONTENT_TYPE"] = "multipart/form-data; boundary=b"
    environ["wsgi.input"] = Chunked()
    environ["wsgi.input_terminated"] = True
    status: list[str] = []
    response = b"".join(app(environ, lambda s, h, *a: status.append(s)))  # type: ignore[arg-type]  # a minimal WSGI start_response
    assert status[0].startswith("413"), response
    assert (count_audio_objects(s3), _rows(admin)) == before
    uploads = s3.list_multipart_uploads(Bucket="callsight", Prefix="orgs/demo/").get("Uploads", [])
    assert not uploads


def test_duplicate_call_id_is_409(api: Api, wav: Path) -> None:
    call_id = unique("dup")
    assert api.upload(wav, call_id=call_id, language="en-US").status_code == 201
    r = api.upload(wav, call_id=call_id, language="en-US")
    assert r.status_code == 409 and r.json()["error"] == "duplicate_call_id"


def test_duplicate_call_id_returns_409_under_race(api: Api, admin: Any, s3: Any, wav: Path) -> None:
    call_id = unique("race")
    before = count_audio_objects(s3)
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(lambda _: api.upload(wav, call_id=call_id, language="en-US").status_code, range(12)))
    assert sorted(codes) == [201] + [409] * 11
    assert count_audio_objects(s3) == before + 1


def test_same_call_id_in_another_organisation_is_fine_and_isolated(api: Api, admin: Any, wav: Path) -> None:
    admin.orgs.ensure_org("other-org", "Other", "en-US")
    other_key, _ = admin.orgs.create_api_key("other-org", "test")
    call_id = unique("tenant")
    assert api.upload(wav, call_id=call_id, language="en-US").status_code == 201
    assert api.upload(wav, key=other_key, call_id=call_id).status_code == 201
    theirs = api.get(f"/api/calls/{call_id}", key=other_key).json()
    assert theirs["language"] == "en-US"
    only_mine = unique("mine")
    api.upload(wav, call_id=only_mine, language="en-US")
    assert api.get(f"/api/calls/{only_mine}", key=other_key).status_code == 404
    listed = api.get("/api/calls", key=other_key, page_size=500).json()["calls"]
    assert only_mine not in {c["call_id"] for c in listed}


def test_unknown_call_is_404(api: Api) -> None:
    r = api.get("/api/calls/does-not-exist")
    assert r.status_code == 404 and "not found" in r.json()["message"]


def _multipart(parts: list[tuple[str, Any]]) -> tuple[bytes, str]:
    boundary = "testboundary7"
    out = b""
    for name, value in parts:
        if isinstance(value, tuple):
            out += (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{value[0]}"\r\n'
                    "Content-Type: application/octet-stream\r\n\r\n").encode() + value[1] + b"\r\n"
        else:
            out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"
