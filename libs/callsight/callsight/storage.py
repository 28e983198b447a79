"""AudioStore: the recordings in S3 (the only objects Callsight keeps there), streamed in
parts, never whole in memory. Transcripts and analyses live in PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

PART_SIZE = 8 * 1024 * 1024  # S3 needs >= 5 MiB per part except the last


class ObjectBody(Protocol):
    """The streamed body of an S3 object (botocore's StreamingBody)."""

    def read(self, amt: int | None = None) -> bytes: ...

    def iter_chunks(self, chunk_size: int = ...) -> Iterator[bytes]: ...

    def close(self) -> None: ...


class StorageUnavailable(RuntimeError):
    """S3 could not be reached or refused the request."""


class MultipartWriter:
    """Writes one object in parts as bytes arrive; memory stays at one part."""

    def __init__(self, client: Any, bucket: str, key: str, content_type: str) -> None:
        self._client = client
        self.bucket = bucket
        self.key = key
        self.content_type = content_type
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self.size = 0

    def write(self, data: bytes) -> None:
        self._buffer += data
        self.size += len(data)
        while len(self._buffer) >= PART_SIZE:
            chunk = bytes(self._buffer[:PART_SIZE])
            del self._buffer[:PART_SIZE]
            self._upload_part(chunk)

    def _upload_part(self, chunk: bytes) -> None:
        try:
            if self._upload_id is None:
                created = self._client.create_multipart_upload(
                    Bucket=self.bucket, Key=self.key, ContentType=self.content_type
                )
                self._upload_id = created["UploadId"]
            number = len(self._parts) + 1
            part = self._client.upload_part(
                Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=chunk
            )
            self._parts.append({"PartNumber": number, "ETag": part["ETag"]})
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(str(exc)) from exc

    def complete(self) -> None:
        try:
            if self._upload_id is None:
                self._client.put_object(
                    Bucket=self.bucket, Key=self.key, Body=bytes(self._buffer), ContentType=self.content_type
                )
            else:
                if self._buffer:
                    self._upload_part(bytes(self._buffer))
                self._client.complete_multipart_upload(
                    Bucket=self.bucket, Key=self.key, UploadId=self._upload_id,
                    MultipartUpload={"Parts": self._parts},
                )
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(str(exc)) from exc
        finally:
            self._buffer = bytearray()

    def abort(self) -> None:
        """Leave nothing behind: abort the multipart upload (best effort)."""
        self._buffer = bytearray()
        if self._upload_id is not None:
            try:
                self._client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id)
            except (BotoCoreError, ClientError):
                pass
            self._upload_id = None


class AudioStore:
    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def writer(self, key: str, content_type: str = "application/octet-stream") -> MultipartWriter:
        return MultipartWriter(self.client, self.bucket, key, content_type)

    def download_to(self, key: str, path: Path, chunk: int = 1024 * 1024) -> int:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
            size = 0
            with open(path, "wb") as out:
                for block in iter(lambda: body.read(chunk), b""):
                    out.write(block)
                    size += len(block)
            return size
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(str(exc)) from exc

    def open(self, key: str, byte_range: str | None = None) -> tuple[ObjectBody, dict[str, Any]]:
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if byte_range:
            args["Range"] = byte_range
        try:
            obj = self.client.get_object(**args)
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(str(exc)) from exc
        return obj["Body"], obj

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(str(exc)) from exc

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StorageUnavailable(str(exc)) from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(str(exc)) from exc

    def keys_under(self, prefix: str) -> list[str]:
        """Every object key under `prefix` (all of one call's objects, whatever wrote them)."""
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
            return [obj["Key"] for page in pages for obj in page.get("Contents", [])]
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(str(exc)) from exc

    def delete_keys(self, keys: list[str]) -> None:
        """Delete objects, up to 1000 per request; a key already gone counts as deleted."""
        for start in range(0, len(keys), 1000):
            chunk = keys[start:start + 1000]
            try:
                reply = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True})
            except (BotoCoreError, ClientError) as exc:
                raise StorageUnavailable(str(exc)) from exc
            errors = [e for e in reply.get("Errors", []) if e.get("Code") != "NoSuchKey"]
            if errors:
                first = errors[0]
                raise StorageUnavailable(f"{len(errors)} objects not deleted, e.g. {first.get('Key')}: "
                                         f"{first.get('Code')} {first.get('Message')}")

    def ping(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(str(exc)) from exc


def audio_key(org_id: str, call_uid: str) -> str:
    """Keys are built from ids we generate, never from a client's file name."""
    return f"orgs/{org_id}/calls/{call_uid}/audio"


def call_prefix(org_id: str, call_uid: str) -> str:
    """Where every object of one call lives: deleting a call deletes what is under it."""
    return f"orgs/{org_id}/calls/{call_uid}/"

