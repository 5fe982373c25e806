"""The Starlette application: every route module mounted under ``/dicom-web`` (WADO-URI at
``/wado``), with bearer-token authentication, CORS and an access log.

Middleware, outermost first:

1. :class:`AccessLog`: one ``http.access`` event per request (structlog via :mod:`gantry.log`)
   with method, path, status, bytes sent and duration. The query string is logged with every
   value redacted except those of the paging/format parameters (``limit``, ``offset``,
   ``includefield`` ...): a QIDO key such as ``PatientName=...`` never reaches the log.
2. CORS (``cors_origins``), so that a browser viewer's preflight is answered before authentication.
3. :class:`BearerAuth` (``tokens``): without ``Authorization: Bearer <one of them>``, 401 with
   ``WWW-Authenticate: Bearer realm="gantry"`` and a JSON error body.
"""

from __future__ import annotations

import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qsl, quote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount

from gantry.log import get_logger

from gantry_dicomweb_server.context import ServerContext
from gantry_dicomweb_server.dicomjson import error_body
from gantry_dicomweb_server.responses import error_response
from gantry_dicomweb_server.settings import SERVICE_PATH

log = get_logger("gantry_dicomweb_server.access")

#: Query parameters whose values are logged as they are (they never hold patient data).
LOGGED_VALUES = frozenset({"limit", "offset", "includefield", "fuzzymatching", "requesttype", "contenttype",
                           "transfersyntax", "emptyvaluematching", "multiplevaluematching"})
REDACTED = "<redacted>"


def build_app(context: ServerContext) -> Starlette:
    from gantry_dicomweb_server.qido import qido_routes
    from gantry_dicomweb_server.rendered import rendered_routes
    from gantry_dicomweb_server.stow import stow_routes
    from gantry_dicomweb_server.wado import wado_routes, wado_uri_routes

    service = [*qido_routes(context), *stow_routes(context), *wado_routes(context), *rendered_routes(context)]
    middleware = [Middleware(AccessLog)]
    if context.settings.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        middleware.append(Middleware(CORSMiddleware, allow_origins=list(context.settings.cors_origins),
                                     allow_methods=["GET", "POST", "OPTIONS"],
                                     allow_headers=["Authorization", "Accept", "Content-Type", "Cache-Control"],
                                     expose_headers=["Warning", "Content-Location", "Content-Type"]))
    if context.settings.tokens:
        middleware.append(Middleware(BearerAuth, tokens=context.settings.tokens))
    app = Starlette(routes=[Mount(SERVICE_PATH, routes=service), *wado_uri_routes(context)],
                    middleware=middleware, exception_handlers={HTTPException: _http_error})
    app.state.context = context
    return app


async def _http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    detail = getattr(exc, "detail", "") or "error"
    return error_response(status, str(detail), headers=getattr(exc, "headers", None))


class BearerAuth:
    """ASGI middleware: every HTTP request but a CORS preflight needs one of ``tokens``."""

    def __init__(self, app: Any, tokens: tuple[str, ...]) -> None:
        self.app = app
        self.tokens = tuple(token.encode("utf-8") for token in tokens)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or ()).get(b"authorization", b"")
        scheme, _, token = header.partition(b" ")
        if scheme.lower() == b"bearer" and any(hmac.compare_digest(token.strip(), known) for known in self.tokens):
            await self.app(scope, receive, send)
            return
        challenge = 'Bearer realm="gantry"' + (', error="invalid_token"' if header else "")
        body = json.dumps(error_body(401, "a valid bearer token is required")).encode("utf-8")
        await send({"type": "http.response.start", "status": 401,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"www-authenticate", challenge.encode("ascii"))]})
        await send({"type": "http.response.body", "body": body})


def redacted_query(query: str) -> str:
    """The query string with every value but those of :data:`LOGGED_VALUES` replaced."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return "&".join(f"{quote(name)}={quote(value) if name.lower() in LOGGED_VALUES else REDACTED}"
                    for name, value in pairs)


class AccessLog:
    """ASGI middleware: one ``http.access`` log event per HTTP request (see the module docstring)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        facts = {"status": 0, "bytes": 0}

        async def counting_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                facts["status"] = message["status"]
            elif message["type"] == "http.response.body":
                facts["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            client = scope.get("client")
            log.info("http.access", method=scope["method"], path=scope["path"],
                     query=redacted_query(query) if query else "", status=facts["status"] or 500,
                     bytes=facts["bytes"], duration_ms=round((time.perf_counter() - started) * 1000, 2),
                     client=client[0] if client else "")
