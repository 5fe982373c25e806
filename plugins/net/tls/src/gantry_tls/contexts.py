"""SSL contexts for both ends of a dicoms:// association, from the ``[tls]`` settings.

Both refuse anything older than TLS 1.2 (BCP 195, as dcmtk's default profile does). The client
verifies the server's certificate and host name unless ``verify = false`` says otherwise, which
is logged every time. A file that cannot be read is a TransportError naming the setting.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

from gantry import TransportError
from gantry.log import get_logger

from gantry_dimse.sockets import CLIENT_CERTIFICATE
from gantry_tls.settings import TlsSettings

log = get_logger(__name__)

_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def client_ssl_context(settings: TlsSettings | Mapping[str, Any] | None) -> ssl.SSLContext:
    """What a dicoms:// client uses: verifies the server, presents cert_file when given."""
    config = _typed(settings)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname on
    _common(context, config)
    # Without one, a TLS 1.3 server requiring client certificates refuses us only after the
    # handshake: gantry-dimse then waits briefly for its verdict, to report that clearly.
    setattr(context, CLIENT_CERTIFICATE, bool(config.cert_file))
    if not config.verify:
        log.warning("tls.verification_off", side="client",
                    why="tls.verify = false: the server's certificate and host name are not checked")
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def server_ssl_context(settings: TlsSettings | Mapping[str, Any] | None) -> ssl.SSLContext:
    """What ``gantry listen dicoms://`` uses: presents cert_file; with ``require_client_cert``
    refuses clients without a certificate from ca_file (mutual TLS)."""
    config = _typed(settings)
    if not config.cert_file:
        raise TransportError("tls.cert_file (and tls.key_file) must be set to listen on dicoms://")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    _common(context, config)
    if config.require_client_cert:
        if not config.verify:
            log.warning("tls.verification_off", side="server",
                        why="tls.verify = false: client certificates are asked for but not checked")
        context.verify_mode = ssl.CERT_REQUIRED if config.verify else ssl.CERT_OPTIONAL
    return context


def _typed(settings: TlsSettings | Mapping[str, Any] | None) -> TlsSettings:
    return settings if isinstance(settings, TlsSettings) else TlsSettings.from_mapping(settings)


def _common(context: ssl.SSLContext, config: TlsSettings) -> None:
    context.minimum_version = _VERSIONS[config.minimum_version]
    try:
        if config.ca_file:
            context.load_verify_locations(cafile=config.ca_file)
        else:
            context.load_default_certs(ssl.Purpose.SERVER_AUTH if context.check_hostname
                                       else ssl.Purpose.CLIENT_AUTH)
        if config.cert_file:
            context.load_cert_chain(config.cert_file, config.key_file or None)
    except (OSError, ssl.SSLError) as err:
        raise TransportError(f"cannot load the TLS files (tls.ca_file {config.ca_file!r}, "
                             f"tls.cert_file {config.cert_file!r}, tls.key_file {config.key_file!r}): "
                             f"{err}") from err
