"""The ``[tls]`` configuration section.

    [tls]
    ca_file = "/etc/gantry/ca.pem"       # CAs we trust for peers (empty: the system's)
    cert_file = "/etc/gantry/node.pem"   # our certificate: the listener's, and the client's for mutual TLS
    key_file = "/etc/gantry/node.key"
    verify = true                        # false only for tests against self-signed peers; logged
    require_client_cert = false          # the listener asks clients for a certificate from ca_file
    minimum_version = "1.2"              # or "1.3"
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from gantry import Setting

VERSIONS = ("1.2", "1.3")


def declared_settings() -> list[Setting]:
    return [
        Setting(name="ca_file", type="str", default="",
                help="PEM file of the CAs trusted for peer certificates (empty: the system's CAs)"),
        Setting(name="cert_file", type="str", default="",
                help="our PEM certificate (chain): the listener's, and the client's for mutual TLS"),
        Setting(name="key_file", type="str", default="", help="the private key of cert_file (PEM)"),
        Setting(name="verify", type="bool", default=True,
                help="verify the peer's certificate and, as a client, its host name (false is logged)"),
        Setting(name="require_client_cert", type="bool", default=False,
                help="the listener refuses clients without a certificate signed by ca_file"),
        Setting(name="minimum_version", type="str", default="1.2", choices=VERSIONS,
                help="the oldest TLS version accepted"),
    ]


@attrs.frozen(kw_only=True)
class TlsSettings:
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    verify: bool = True
    require_client_cert: bool = False
    minimum_version: str = "1.2"

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any] | None) -> TlsSettings:
        values = {setting.name: setting.default for setting in declared_settings()}
        values.update(settings or {})
        return cls(**{field.name: values[field.name] for field in attrs.fields(cls)})
