"""Helpers for tests of (and against) the DICOMweb client: no pytest needed to import them."""

from __future__ import annotations

from typing import Any

#: (series, instance, frames) of study 1 of patient 1: the tests' sample study.
STUDY = [(1, 1, 2), (1, 2, 1), (1, 3, 1), (2, 4, 1), (2, 5, 1)]


def dicomweb_url(server: Any, *, userinfo: str = "") -> str:
    """The dicomweb+http URL of an OrthancServer's DICOMweb root."""
    return f"dicomweb+http://{userinfo + '@' if userinfo else ''}127.0.0.1:{server.http_port}/dicom-web"
