"""The ``dicoms://`` Transport factory: the dicom:// adapter (pooling, retries, breaker, every
DIMSE service provider), with its sockets wrapped in TLS from the ``[tls]`` settings.

``server_ssl_context`` next to the factory is the convention ``gantry listen dicoms://`` uses to
get the listener's context from whichever plugin serves the scheme.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gantry_dimse.transport import DimseTransport, open_transport as open_dimse_transport

from gantry_tls.contexts import client_ssl_context, server_ssl_context

__all__ = ["open_transport", "server_ssl_context"]


def open_transport(url: str, settings: Mapping[str, Any] | None = None, kernel: Any = None) -> DimseTransport:
    """``settings`` is the ``[tls]`` section (what the kernel passes); timeouts, retries and nodes
    come from ``[dimse]`` as for dicom://."""
    dimse_settings = kernel.settings("dimse") if kernel is not None and "dimse" in kernel.records else None
    return open_dimse_transport(url, dimse_settings, kernel, ssl_context=client_ssl_context(settings))
