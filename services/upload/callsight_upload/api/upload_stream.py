"""Reads a multipart upload as a stream: fields into small buffers, the file straight on.

The body is never held whole: the file part is handed on in chunks as it arrives,
and every limit (body size, field count, field size) is enforced while reading.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Protocol

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from callsight.limits import megabytes
from callsight_upload.core.errors import ApiError

READ_SIZE = 256 * 1024
MAX_FIELDS = 32
MAX_FIELD_BYTES = 4096


class FileSink(Protocol):
    def write(self, data: bytes) -> None: ...


@dataclass
class ParsedUpload:
    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None
    file_bytes: int = 0
    file_seen: bool = False


class _Reader:
    """Turns decoder events into fields and file chunks, enforcing every limit."""

    def __init__(self, max_file_bytes: int, open_file: Callable[[ParsedUpload, str | None], FileSink]) -> None:
        self.max_file_bytes = max_file_bytes
        self.open_file = open_file
        self.parsed = ParsedUpload()
        self.current: str | None = None
        self.field_buffer = bytearray()
        self.sink: FileSink | None = None

    def on_event(self, event: object) -> None:
        parsed = self.parsed
        if isinstance(event, File):
            if event.name != "file":
                raise ApiError(400, "unexpected_file", f"unexpected file field {event.name!r}; send the recording as 'file'")
            if parsed.file_seen:
                raise ApiError(400, "too_many_files", "send one recording per upload")
            parsed.file_seen = True
            parsed.filename = event.filename
            self.current = "file"
            self.sink = self.open_file(parsed, event.filename)
        elif isinstance(event, Field):
            if event.name in parsed.fields or len(parsed.fields) >= MAX_FIELDS:
                raise ApiError(400, "invalid_form", f"field {event.name!r} repeated or too many fields")
            self.current = event.name
            self.field_buffer.clear()
        elif isinstance(event, Data):
            if self.current == "file":
                parsed.file_bytes += len(event.data)
                if parsed.file_bytes > self.max_file_bytes:
                    raise ApiError(413, "file_too_large", too_large_message(self.max_file_bytes))
                assert self.sink is not None
                self.sink.write(event.data)
            else:
                self.field_buffer += event.data
                if len(self.field_buffer) > MAX_FIELD_BYTES:
                    raise ApiError(400, "field_too_large", f"field {self.current!r} is longer than {MAX_FIELD_BYTES} bytes")
                if not event.more_data and self.current is not None:
                    try:
                        parsed.fields[self.current] = self.field_buffer.decode("utf-8")
                    except UnicodeDecodeError:
                        raise ApiError(400, "invalid_form", f"field {self.current!r} is not valid UTF-8 text") from None
            if not event.more_data:
                self.current = None


def read_upload(
    stream: IO[bytes],
    boundary: bytes,
    max_file_bytes: int,
    open_file: Callable[[ParsedUpload, str | None], FileSink],
) -> ParsedUpload:
    """Parse the body; `open_file(parsed_so_far, filename)` is called when the `file` part
    starts (fields sent before it are already in `parsed`) and returns where its bytes go."""
    decoder = MultipartDecoder(boundary, max_form_memory_size=READ_SIZE * 4, max_parts=MAX_FIELDS + 1)
    reader = _Reader(max_file_bytes, open_file)
    try:
        while True:
            chunk = stream.read(READ_SIZE)
            # a stream may hand back more than asked: feed the decoder in bounded slices
            for i in range(0, max(len(chunk), 1), READ_SIZE):
                decoder.receive_data(chunk[i : i + READ_SIZE] or None)
                while not isinstance(event := decoder.next_event(), NeedData):
                    if isinstance(event, Epilogue):
                        return reader.parsed
                    reader.on_event(event)
            if not chunk:
                raise ApiError(400, "invalid_form", "the multipart body ended before its closing boundary")
    except RequestEntityTooLarge:
        raise ApiError(400, "invalid_form", "the multipart body has too many parts, oversized headers, or does not match its boundary") from None
    except ValueError as exc:
        raise ApiError(400, "invalid_form", f"the multipart body is malformed or incomplete ({exc})") from None


def too_large_message(limit: int) -> str:
    return f"the file is larger than the {megabytes(limit)} limit ({limit:,} bytes); split longer recordings before uploading"
