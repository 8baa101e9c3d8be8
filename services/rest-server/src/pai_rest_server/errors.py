"""OpenPAI error bodies ``{"code", "message"}`` and the handlers that make every failure one."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("pai_rest_server")


class ApiError(Exception):
    """An error answered as ``status`` with ``{"code": code, "message": message}``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def unauthorized(message: str = "Your token is invalid.") -> ApiError:
    """401 UnauthorizedUserError."""
    return ApiError(401, "UnauthorizedUserError", message)


def forbidden(message: str) -> ApiError:
    """403 ForbiddenUserError."""
    return ApiError(403, "ForbiddenUserError", message)


def invalid_parameters(message: str) -> ApiError:
    """400 InvalidParametersError."""
    return ApiError(400, "InvalidParametersError", message)


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON response of one error."""
    return JSONResponse({"code": code, "message": message}, status_code=status, headers=headers)


def field_path(loc: tuple | list) -> str:
    """A pydantic error location as a dotted field name, without the 'body'/'query' prefix."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def install_handlers(app: FastAPI) -> None:
    """Route every exception to an OpenPAI error body; nothing leaks a traceback."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{field_path(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()]
        return error_response(400, "InvalidParametersError", "; ".join(problems))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code in (404, 405):
            return error_response(404, "NoApiError", f"{request.method} {request.url.path} is not an API.")
        return error_response(exc.status_code, "UnknownError", str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error on %s %s: %s", request.method, request.url.path, type(exc).__name__)
        log.debug("unexpected error", exc_info=exc)
        return error_response(500, "UnknownError", "An internal error occurred.")
