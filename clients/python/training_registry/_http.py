"""HTTP for the client, on urllib alone: JSON in and out, a request id on
every call, retries with backoff where they are safe, errors from problem
bodies, and streamed downloads.

Retries: connection failures (refused, reset, timed out) and 502/503/504 only;
anything else is an answer and retrying it would only repeat it. Every POST
and PATCH carries an ``Idempotency-Key`` that stays the same across the
retries of one call, so a retried write the server already applied is
answered from its record instead of applied twice (registering a run is
idempotent even without it: the same launch again is a 200).
"""
from __future__ import annotations

import datetime as _dt
import email.message
import http.client
import json
import os
import random
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from .errors import ConnectionFailed, RegistryError, error_for

DEFAULT_URL = "http://127.0.0.1:54321/functions/v1"
RETRY_STATUSES = frozenset({502, 503, 504})
NON_IDEMPOTENT = frozenset({"POST", "PATCH"})
_NO_BODY = object()


def utc_text(value: _dt.datetime) -> str:
    """ISO 8601 with an offset; a naive datetime is taken as UTC (the seeds pass ``datetime.utcnow()``)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value.isoformat()


def _json_default(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return utc_text(value)
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "tolist"):  # numpy scalars and arrays, common in W&B summaries
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode_json(body: Any) -> bytes:
    """Compact JSON; NaN and infinities are refused here (JSON has no such numbers)."""
    try:
        return json.dumps(body, default=_json_default, allow_nan=False, separators=(",", ":")).encode()
    except ValueError as exc:
        raise ValueError(f"cannot send a non-finite number (NaN or infinity) as JSON: {exc}") from None


def query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _dt.datetime):
        return utc_text(value)
    return str(value)


def quote(segment: Any) -> str:
    """One path segment, percent-encoded (run ids may hold ``:``, ``@``, ``+``, ``=``)."""
    return urllib.parse.quote(str(segment), safe="")


def file_name(headers: email.message.Message) -> Optional[str]:
    """The name in ``Content-Disposition: attachment; filename="..."``."""
    disposition = headers.get("content-disposition")
    if not disposition:
        return None
    message = email.message.Message()
    message["content-disposition"] = disposition
    name = message.get_filename()
    return os.path.basename(name) if name else None


@dataclass
class Download:
    """A streamed file, written: where, its name from the server, its size."""

    path: str
    file_name: Optional[str]
    bytes: int
    request_id: Optional[str]
    export_id: Optional[str] = None


class Http:
    """One configured connection to the registry's functions."""

    def __init__(
        self,
        base_url: Optional[str],
        token: Optional[str],
        *,
        timeout: float,
        retries: int,
        backoff: float,
        max_backoff: float,
        user_agent: str,
    ) -> None:
        url = (base_url or os.environ.get("TRAINING_REGISTRY_URL") or DEFAULT_URL).rstrip("/")
        # A Supabase project URL (https://<ref>.supabase.co) means its functions, as supabase-js has it.
        if urllib.parse.urlsplit(url).path in ("", "/"):
            url += "/functions/v1"
        self.base_url = url
        self.token = token if token is not None else os.environ.get("TRAINING_REGISTRY_TOKEN")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.user_agent = user_agent

    # -- calls -------------------------------------------------------------

    def call(self, method: str, path: str, **options: Any) -> Any:
        """Sends one call (retried where safe; ``options`` as for ``open``) and answers its JSON body."""
        response, _ = self.open(method, path, **options)
        with response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def download(
        self,
        method: str,
        path: str,
        to: Any,
        *,
        params: Optional[Mapping[str, Any]] = None,
        json_body: Any = _NO_BODY,
        progress: Optional[Callable[[int], None]] = None,
        chunk_size: int = 1 << 20,
    ) -> Download:
        """Streams an answer to ``to``: a path, a directory (the server's file name is used) or a binary file object.

        A path is written as ``<path>.part`` and renamed when the file is complete, so an
        interrupted download never leaves a file that looks whole.
        """
        response, request_id = self.open(method, path, params=params, json_body=json_body)
        name = file_name(response.headers)
        export_id = response.headers.get("x-export-id")
        with response:
            if hasattr(to, "write"):
                written = _copy(response, to, chunk_size, progress)
                return Download(getattr(to, "name", ""), name, written, request_id, export_id)
            target = os.fspath(to)
            if os.path.isdir(target):
                target = os.path.join(target, name or "download")
            partial = target + ".part"
            try:
                with open(partial, "wb") as out:
                    written = _copy(response, out, chunk_size, progress)
                os.replace(partial, target)
            except BaseException:
                if os.path.exists(partial):
                    os.remove(partial)
                raise
        return Download(target, name, written, request_id, export_id)

    def open(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Mapping[str, Any]] = None,
        json_body: Any = _NO_BODY,
        data: Optional[bytes] = None,
        headers: Optional[Mapping[str, str]] = None,
        token: Optional[str] = None,
    ) -> Tuple[http.client.HTTPResponse, str]:
        """The successful response of one call, unread, and the call's request id."""
        url = self.base_url + path
        query = {k: query_text(v) for k, v in (params or {}).items() if v is not None}
        if query:
            url += "?" + urllib.parse.urlencode(query)
        if json_body is not _NO_BODY:
            data = encode_json(json_body)
        request_id = uuid.uuid4().hex
        sent = {"accept": "application/json", "user-agent": self.user_agent, "x-request-id": request_id}
        if data is not None:
            sent["content-type"] = "application/json"
        bearer = token if token is not None else self.token
        if bearer:
            sent["authorization"] = f"Bearer {bearer}"
        if method in NON_IDEMPOTENT:
            # One key per call, the same on every retry of it (IETF draft "The Idempotency-Key HTTP Header Field").
            sent["idempotency-key"] = str(uuid.uuid4())
        sent.update(headers or {})

        attempt = 0
        while True:
            try:
                response = self._send(urllib.request.Request(url, data=data, method=method, headers=sent))
            except (OSError, http.client.HTTPException) as exc:  # URLError, refused, reset, timed out
                if attempt >= self.retries:
                    reason = getattr(exc, "reason", exc)
                    raise ConnectionFailed(
                        f"no answer from {self.base_url} after {attempt + 1} attempts: {reason}", request_id=request_id,
                    ) from exc
                self._pause(attempt, None)
                attempt += 1
                continue
            if response.status in RETRY_STATUSES and attempt < self.retries:
                retry_after = response.headers.get("retry-after")
                response.read()
                response.close()
                self._pause(attempt, retry_after)
                attempt += 1
                continue
            if response.status >= 400:
                raise _error(response, request_id)
            return response, response.headers.get("x-request-id") or request_id

    def _send(self, request: urllib.request.Request) -> http.client.HTTPResponse:
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)  # noqa: S310 (the caller's own URL)
        except urllib.error.HTTPError as answer:  # an error status is still an answer (it has .status, .headers, .read)
            return answer  # type: ignore[return-value]

    def _pause(self, attempt: int, retry_after: Optional[str]) -> None:
        """Exponential backoff with jitter, or the server's Retry-After (in seconds) when it gives one."""
        delay = self.backoff * (2 ** attempt) * random.uniform(0.5, 1.5)
        if retry_after and retry_after.strip().isdigit():
            delay = float(retry_after)
        time.sleep(min(delay, self.max_backoff))


def _copy(response: Any, out: Any, size: int, progress: Optional[Callable[[int], None]]) -> int:
    """Copies the body to ``out`` a chunk at a time (memory stays flat); answers the bytes written."""
    written = 0
    while True:
        chunk = response.read(size)
        if not chunk:
            return written
        out.write(chunk)
        written += len(chunk)
        if progress:
            progress(written)


def _error(response: Any, request_id: str) -> RegistryError:
    with response:
        raw = response.read()
    try:
        problem = json.loads(raw) if raw else {}
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    if "detail" not in problem:
        # Not one of ours (a proxy's HTML page, a gateway's own answer): keep its start readable.
        text = raw[:300].decode("utf-8", "replace").strip() if raw else ""
        problem = {**problem, "detail": text or f"HTTP {response.status} {getattr(response, 'reason', '')}".strip()}
    return error_for(response.status, problem, response.headers.get("x-request-id") or request_id)


def drop_none(**fields: Any) -> Dict[str, Any]:
    """The fields given: None means "not given" (the seeds' own convention)."""
    return {k: v for k, v in fields.items() if v is not None}
