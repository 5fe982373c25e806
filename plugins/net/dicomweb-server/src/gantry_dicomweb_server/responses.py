"""Small response helpers shared by the route modules."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from gantry_dicomweb_server.dicomjson import error_body

DICOM_JSON = "application/dicom+json"


class HttpProblem(Exception):
    """Raised inside a route: answered with ``status`` and a JSON error body."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(error_body(status, message)), status_code=status,
                    media_type="application/json", headers=headers)


def dicom_json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
                    status_code=status, media_type=DICOM_JSON, headers=headers)


def warning(service: str, text: str) -> str:
    """An RFC 7234 Warning value as PS3.18 writes them: ``299 <service>: <text>``."""
    return f"299 {service}: {text}"
