"""Request plumbing shared by every route: request ids, JSON errors, access logs, metrics, body parsing."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from connectors.jsonlog import request_id_var
from connectors.metrics import Metrics, surface_of

log = logging.getLogger("ribot.http")
access_log = logging.getLogger("ribot.access")

MAX_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 40
REQUEST_ID_HEADER = "X-Request-Id"
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    503: "not_ready",
}
_ERROR_MESSAGES = {
    404: "There is nothing at this path.",
    405: "This path does not accept that method.",
    413: f"The request body is larger than {MAX_BODY_BYTES // 1024} KB.",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """Raised by handlers for a client error; becomes a JSON error response."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def json_error(status: int, code: str, message: str, **extra: Any) -> web.Response:
    body: dict[str, Any] = {"error": code, "message": message}
    request_id = request_id_var.get()
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    return web.json_response(body, status=status)


def _from_http_exception(exc: web.HTTPException) -> web.StreamResponse:
    if exc.status < 400:
        return exc
    code = _ERROR_CODES.get(exc.status, "http_error")
    message = _ERROR_MESSAGES.get(exc.status) or exc.reason
    response = json_error(exc.status, code, message)
    for name in ("Allow", "Retry-After", "Location"):
        if name in exc.headers:
            response.headers[name] = exc.headers[name]
    return response


def _request_id(request: web.Request) -> str:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _CLIENT_REQUEST_ID.match(given) else uuid.uuid4().hex


async def _respond(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return json_error(exc.status, exc.code, exc.message)
    except web.HTTPException as exc:
        return _from_http_exception(exc)
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:
        log.exception("unhandled error", extra={"path": request.path})
        return json_error(
            500, "internal_error", "Something went wrong on our side. The request id finds it in the logs."
        )


def request_middleware(metrics: Metrics) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        request_id = _request_id(request)
        token = request_id_var.set(request_id)
        surface = surface_of(request.path)
        started = time.perf_counter()
        status = 499  # client went away before an answer
        metrics.in_flight.inc()
        try:
            response = await _respond(request, handler)
            status = response.status
            response.headers[REQUEST_ID_HEADER] = request_id
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "no-referrer")
            return response
        finally:
            seconds = time.perf_counter() - started
            metrics.in_flight.dec()
            metrics.observe_request(surface, request.method, status, seconds)
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": status,
                    "ms": round(seconds * 1000, 2),
                    "surface": surface,
                },
            )
            request_id_var.reset(token)

    return middleware


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object, or an ApiError that says what is wrong with it."""
    if request.content_type != "application/json":
        raise ApiError(
            415, "unsupported_media_type", "Send the body as JSON with Content-Type: application/json."
        )
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", _ERROR_MESSAGES[413])
    data = parse_json(await request.read())
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_request", "The body must be a JSON object.")
    return data


def parse_json(raw: bytes | str) -> Any:
    """JSON text as Python values, or an ApiError (400) for text that is not UTF-8, not JSON, or nested
    deeper than MAX_JSON_DEPTH."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_json", "The body is not UTF-8 text.") from None
    too_deep = ApiError(400, "invalid_json", f"The JSON is nested deeper than {MAX_JSON_DEPTH} levels.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"The body is not valid JSON: {exc}.") from None
    except RecursionError:
        raise too_deep from None
    if _deeper_than(data, MAX_JSON_DEPTH):
        raise too_deep
    return data


def _deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def text_field(data: dict[str, Any], name: str, *, required: bool, max_chars: int) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise ApiError(422, "invalid_request", f"`{name}` must be a string.")
    value = value.strip()
    if required and not value:
        raise ApiError(422, "invalid_request", f"`{name}` must not be empty.")
    if len(value) > max_chars:
        raise ApiError(422, "invalid_request", f"`{name}` is longer than {max_chars} characters.")
    return value
