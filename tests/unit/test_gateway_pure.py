"""Pure pieces of the gateway: format sniffing, field validation, multipart streaming, exports."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from callsight_upload.api import exports
from callsight_upload.api.upload_stream import read_upload
from callsight_upload.core import validation
from callsight_upload.core.errors import ApiError
from callsight_upload.core.sniff import sniff_audio

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("head,fmt", [
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", "wav"),
    (b"ID3\x04\x00\x00\x00\x00\x00\x00", "mp3"),
    (b"\xff\xfb\x90\x64\x00\x00", "mp3"),
    (b"\x00\x00\x00\x20ftypM4A \x00\x00", "m4a"),
    (b"OggS\x00\x02\x00\x00", "ogg"),
    (b"%PDF-1.7\n", None),
    (b"\xff\xd8\xff\xe0JFIF", None),
    (b"fLaC\x00\x00", None),
    (b"", None),
])
def test_sniff_recognises_containers_by_content(head: bytes, fmt: str | None) -> None:
    assert sniff_audio(head + b"\0" * 64) == fmt if head else sniff_audio(head) is None


def test_language_accepts_the_two_products_languages_only() -> None:
    assert validation.language("ja-JP", "en-US") == "ja-JP"
    assert validation.language("en-us", "ja-JP") == "en-US"
    assert validation.language("", "en-US") == "en-US"
    with pytest.raises(ApiError) as err:
        validation.language("de-DE", "en-US")
    assert err.value.status == 400


def test_call_date_defaults_and_rejects() -> None:
    today = dt.date(2026, 11, 24)
    assert validation.call_date(None, today) == today
    assert validation.call_date("2026-11-01", today) == dt.date(2026, 11, 1)
    assert validation.call_date("2026-11-01T10:00:00Z", today) == dt.date(2026, 11, 1)
    for bad in ("2026-13-01", "01/11/2026", "2026-11-30", "1900-01-01", "2026-11-01Tgarbage"):
        with pytest.raises(ApiError):
            validation.call_date(bad, today)


def test_file_name_is_reduced_to_its_last_component() -> None:
    assert validation.file_name("../../etc/passwd") == "passwd"
    assert validation.file_name("C:\\calls\\rec 1.wav") == "rec 1.wav"
    assert validation.file_name("a\x00b.wav") == "ab.wav"
    assert validation.file_name("") is None


class Sink:
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data


def _body(*parts: bytes) -> io.BytesIO:
    return io.BytesIO(b"".join(parts))


def test_read_upload_streams_the_file_and_collects_fields() -> None:
    payload = bytes(range(256)) * 5000
    body = _body(b'--B\r\nContent-Disposition: form-data; name="call_id"\r\n\r\nC-1\r\n',
                 b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n', payload,
                 b'\r\n--B\r\nContent-Disposition: form-data; name="language"\r\n\r\nen-US\r\n--B--\r\n')
    sink = Sink()
    seen_at_open: dict[str, str] = {}

    def open_file(parsed, filename):
        seen_at_open.update(parsed.fields)
        return sink

    parsed = read_upload(body, b"B", 10_000_000, open_file)
    assert bytes(sink.data) == payload
    assert parsed.fields == {"call_id": "C-1", "language": "en-US"}
    assert seen_at_open == {"call_id": "C-1"}
    assert parsed.filename == "a.wav" and parsed.file_bytes == len(payload)


@pytest.mark.parametrize("body,status", [
    (b'--B\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n' + b"x" * 2000 + b"\r\n--B--\r\n", 413),
    (b'--B\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc', 400),
    (b'--B\r\nContent-Disposition: form-data; name="x"\r\n\r\n' + b"y" * 5000 + b"\r\n--B--\r\n", 400),
    (b'--B\r\nContent-Disposition: form-data; name="other"; filename="a"\r\n\r\nabc\r\n--B--\r\n', 400),
    (b'--B\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--B\r\nContent-Disposition: form-data; name="a"\r\n\r\n2\r\n--B--\r\n', 400),
    (b'--B\r\nContent-Disposition: form-data; name="a"\r\n\r\n\xff\xfe\r\n--B--\r\n', 400),
])
def test_read_upload_limits_and_malformed_bodies(body: bytes, status: int) -> None:
    with pytest.raises(ApiError) as err:
        read_upload(io.BytesIO(body), b"B", 1000, lambda parsed, name: Sink())
    assert err.value.status == status


TRANSCRIPT = {"turns": [
    {"speaker": "operator", "start": 0.5, "end": 2.25, "text": "Hello, Callsight."},
    {"speaker": "customer", "start": 3661.0, "end": 3662.5, "text": "Hi."},
]}


def test_exports() -> None:
    assert exports.to_txt(TRANSCRIPT) == "[00:00:00] Operator: Hello, Callsight.\n[01:01:01] Customer: Hi.\n"
    srt = exports.to_srt(TRANSCRIPT)
    assert srt.startswith("1\n00:00:00,500 --> 00:00:02,250\nOperator: Hello, Callsight.\n")
    assert "2\n01:01:01,000 --> 01:01:02,500\nCustomer: Hi." in srt
    vtt = exports.to_vtt(TRANSCRIPT)
    assert vtt.startswith("WEBVTT\n") and "00:00:00.500 --> 00:00:02.250\n<v Operator>Hello, Callsight." in vtt
