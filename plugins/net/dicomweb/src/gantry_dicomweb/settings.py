"""The ``[dicomweb]`` configuration section: declared settings and their typed form.

    [dicomweb]
    connect_timeout = 10        # seconds to open the TCP (and TLS) connection
    read_timeout = 60           # seconds without a byte of the answer
    retries = 2                 # extra attempts on connection errors, 5xx and 429 (never on 4xx)
    retry_backoff = 0.5         # first wait, doubled each time, plus up to as much jitter
    retry_max_wait = 10         # longest wait between attempts (our own backoff)
    retry_after_max = 60        # longest Retry-After we honour (seconds)
    breaker_failures = 5        # consecutive failed attempts that open a node's circuit breaker
    breaker_reset = 30          # seconds a node's breaker stays open
    verify = true               # check the server's TLS certificate (never turn off in production)
    ca_bundle = ""              # a PEM file of CA certificates to trust instead of the system's
    token = ""                  # a bearer token for every node without its own
    token_env = ""              # ... or the name of an environment variable holding it
    username = ""               # basic auth (a URL's user:password@ wins)
    password = ""
    page_size = 100             # QIDO-RS results asked per request (then offset= pages on)
    stow_batch_files = 50       # instances per STOW-RS request, at most
    stow_batch_bytes = 268435456  # bytes per STOW-RS request, at most (one bigger file goes alone)

    [[dicomweb.nodes]]          # named servers: dicomweb://pacs
    name = "pacs"
    url = "dicomweb+https://pacs.example/dicom-web"
    token_env = "PACS_TOKEN"    # also: token, username, password, ca_bundle, verify

Nodes are a list of tables because the kernel's setting types have "list" but no "dict".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from gantry import Setting
from gantry.resilience import BreakerPolicy, RetryPolicy, resilience_settings

NODE_KEYS = ("name", "url", "token", "token_env", "username", "password", "ca_bundle", "verify")


def declared_settings() -> list[Setting]:
    return [
        *resilience_settings(retried="connection errors, timeouts, HTTP 5xx and 429", retry_after=True),
        Setting(name="connect_timeout", type="float", default=10.0, help="seconds to open the connection"),
        Setting(name="read_timeout", type="float", default=60.0,
                help="seconds to wait for the next bytes of an answer"),
        Setting(name="verify", type="bool", default=True, help="verify the server's TLS certificate"),
        Setting(name="ca_bundle", type="str", default="", help="PEM file of CA certificates to trust"),
        Setting(name="token", type="str", default="", help="bearer token (prefer token_env)"),
        Setting(name="token_env", type="str", default="",
                help="name of an environment variable holding the bearer token"),
        Setting(name="username", type="str", default="", help="basic auth user"),
        Setting(name="password", type="str", default="", help="basic auth password"),
        Setting(name="page_size", type="int", default=100,
                help="QIDO-RS results asked for per request; more pages follow with offset="),
        Setting(name="stow_batch_files", type="int", default=50, help="instances per STOW-RS request, at most"),
        Setting(name="stow_batch_bytes", type="int", default=256 * 1024 * 1024,
                help="bytes per STOW-RS request, at most (a bigger single file goes alone)"),
        Setting(name="nodes", type="list", default=[],
                help="named servers: tables with name and url (and token, token_env, username, "
                     "password, ca_bundle, verify)"),
    ]


@attrs.frozen(kw_only=True, repr=False)
class Credentials:
    """Bearer token or basic auth. Never shown: ``repr`` says only which kind is set."""

    token: str = ""
    username: str = ""
    password: str = ""

    @property
    def kind(self) -> str:
        return "bearer" if self.token else "basic" if self.username else "none"

    def __repr__(self) -> str:
        return f"Credentials({self.kind})"


@attrs.frozen(kw_only=True)
class DicomWebSettings:
    """The section as typed values (the kernel has already checked each value's type)."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    breaker: BreakerPolicy = attrs.field(factory=BreakerPolicy)
    verify: bool = True
    ca_bundle: str = ""
    credentials: Credentials = attrs.field(factory=Credentials)
    token_env: str = ""
    page_size: int = 100
    stow_batch_files: int = 50
    stow_batch_bytes: int = 256 * 1024 * 1024
    nodes: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any] | None) -> DicomWebSettings:
        values = {setting.name: setting.default for setting in declared_settings()}
        values.update(settings or {})
        return cls(
            connect_timeout=float(values["connect_timeout"]), read_timeout=float(values["read_timeout"]),
            retry=RetryPolicy.from_settings(values),
            breaker=BreakerPolicy.from_settings(values),
            verify=bool(values["verify"]), ca_bundle=str(values["ca_bundle"] or ""),
            credentials=Credentials(token=str(values["token"] or ""), username=str(values["username"] or ""),
                                    password=str(values["password"] or "")),
            token_env=str(values["token_env"] or ""),
            page_size=max(1, int(values["page_size"])),
            stow_batch_files=max(1, int(values["stow_batch_files"])),
            stow_batch_bytes=max(1, int(values["stow_batch_bytes"])),
            nodes=tuple(values["nodes"] or ()),
        )
