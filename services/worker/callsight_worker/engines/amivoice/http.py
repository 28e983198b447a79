"""HTTP to AmiVoice: multipart requests, job polls, and what HTTP failures mean.

The APPKEY travels only in the `u` part and the `Authorization: Bearer` header; any
text from AmiVoice that reaches an exception message is scrubbed of it, and transport
exceptions are raised `from None` so no request object (with its headers) is chained.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import requests

from ..base import PermanentTranscriptionError, TransientTranscriptionError
from .audio import EncodedAudio
from .codes import APPKEY_HINT
from .config import AmiVoiceSettings


class JobNotFound(Exception):
    """AmiVoice does not know this session id (expired, or never ours): submit again."""


class PollRefused(PermanentTranscriptionError):
    """AmiVoice refused the APPKEY on a poll (HTTP 401/403)."""


class AmiVoiceHttp:
    def __init__(self, settings: AmiVoiceSettings) -> None:
        self.settings = settings

    def recognize(self, session: requests.Session, url: str, d: str, audio: EncodedAudio, what: str) -> dict[str, Any]:
        # the audio must be the last part: AmiVoice ignores every part after `a`
        parts: list[tuple[str, tuple[Any, ...]]] = [
            ("u", (None, self.settings.appkey)),
            ("d", (None, d)),
            ("a", (audio.filename, audio.data, audio.content_type)),
        ]
        return self._json(self._send(session, "POST", url, what, files=parts), what)

    def job(self, session: requests.Session, session_id: str) -> dict[str, Any]:
        url = f"{self.settings.async_url}/{urllib.parse.quote(session_id, safe='')}"
        what = f"status of job {session_id}"
        resp = self._send(session, "GET", url, what, headers={"Authorization": f"Bearer {self.settings.appkey}"},
                          missing_ok=True)
        if resp.status_code == 404:
            raise JobNotFound(session_id)
        return self._json(resp, what)

    def scrub(self, text: str) -> str:
        key = self.settings.appkey
        return text.replace(key, "***") if key else text

    def _send(self, session: requests.Session, method: str, url: str, what: str, *, missing_ok: bool = False,
              **kwargs: Any) -> requests.Response:
        timeout = (self.settings.connect_timeout_s, self.settings.read_timeout_s)
        try:
            resp = session.request(method, url, timeout=timeout, **kwargs)
        except requests.Timeout:
            raise TransientTranscriptionError(f"AmiVoice {what}: timed out") from None
        except requests.ConnectionError as exc:
            raise TransientTranscriptionError(f"AmiVoice {what}: connection failed ({type(exc).__name__})") from None
        except requests.RequestException as exc:
            raise TransientTranscriptionError(f"AmiVoice {what}: request failed ({type(exc).__name__})") from None
        status = resp.status_code
        if status < 400 or (missing_ok and status == 404):
            return resp
        snippet = self.scrub(resp.text[:200].strip())
        text = f"AmiVoice {what}: HTTP {status}" + (f" ({snippet})" if snippet else "")
        if status in (408, 425, 429) or status >= 500:
            raise TransientTranscriptionError(text)
        if status in (401, 403):
            refused = PollRefused if method == "GET" else PermanentTranscriptionError
            raise refused(f"{text}: the APPKEY was not accepted; {APPKEY_HINT}")
        raise PermanentTranscriptionError(f"{text}: the request was refused (is the AmiVoice URL right?)")

    def _json(self, resp: requests.Response, what: str) -> dict[str, Any]:
        try:
            body = resp.json()
        except ValueError:
            raise TransientTranscriptionError(f"AmiVoice {what}: the answer is not JSON (HTTP {resp.status_code})") \
                from None
        if not isinstance(body, dict):
            raise TransientTranscriptionError(f"AmiVoice {what}: the answer is not a JSON object")
        return body
