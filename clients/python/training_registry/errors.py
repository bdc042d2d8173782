"""The exceptions the client raises: one per kind of answer, built from the
registry's problem+json body (RFC 9457), so ``except NotFound`` reads like
what happened. ``str(error)`` is the problem's ``detail``; every error carries
the ``request_id`` the server logged the call under.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional


class RegistryError(Exception):
    """Base class: the registry refused a call, or never answered it."""

    #: HTTP status of the answer (None when there was no answer).
    status: Optional[int] = None

    def __init__(
        self,
        detail: str,
        *,
        status: Optional[int] = None,
        code: Optional[str] = None,
        title: Optional[str] = None,
        errors: Optional[List[Dict[str, str]]] = None,
        request_id: Optional[str] = None,
        problem: Optional[Dict[str, Any]] = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        self.code = code
        self.title = title
        #: One ``{"path": ..., "message": ...}`` per invalid field (400s).
        self.errors: List[Dict[str, str]] = list(errors or [])
        #: The ``x-request-id`` of the call: quote it when asking about a failure.
        self.request_id = request_id
        #: The whole problem body as the server sent it.
        self.problem: Dict[str, Any] = dict(problem or {})

    @property
    def paths(self) -> List[str]:
        """The paths of the invalid fields (``items.3.trace_id``)."""
        return [e.get("path", "") for e in self.errors]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, detail={self.detail!r}, request_id={self.request_id!r})"


class BadRequest(RegistryError):
    """400 (also 413 too large, 415 not JSON, 422): ``errors`` names each bad field."""

    status = 400


class Unauthorized(RegistryError):
    """401: no token, or an expired, malformed or foreign-signed one."""

    status = 401


class Forbidden(RegistryError):
    """403: the token is valid but may not do this (another user's run)."""

    status = 403


class NotFound(RegistryError):
    """404: no such run, package, version, conversation or example (or not yours to see)."""

    status = 404


class Conflict(RegistryError):
    """409: an illegal status move, a duplicate, a published version changed."""

    status = 409


class ServerError(RegistryError):
    """500 and other 5xx: a bug on the server side; ``request_id`` finds its log line."""

    status = 500


class ServiceUnavailable(ServerError):
    """502, 503, 504: the registry or its database is unavailable; retried before raised."""

    status = 503


class ConnectionFailed(ServiceUnavailable):
    """No answer at all (refused, reset, timed out), after the retries."""

    status = None


_BY_STATUS = {
    400: BadRequest, 413: BadRequest, 415: BadRequest, 422: BadRequest,
    401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict,
    502: ServiceUnavailable, 503: ServiceUnavailable, 504: ServiceUnavailable,
}


def error_for(status: int, problem: Dict[str, Any], request_id: Optional[str]) -> RegistryError:
    """The exception for an error answer, from its problem body (or what there was of one)."""
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else RegistryError)
    detail = problem.get("detail") or problem.get("title") or f"HTTP {status}"
    return cls(
        str(detail),
        status=status,
        code=problem.get("code"),
        title=problem.get("title"),
        errors=problem.get("errors") if isinstance(problem.get("errors"), list) else None,
        request_id=request_id,
        problem=problem,
    )
