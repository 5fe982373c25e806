"""The ``[orthanc]`` configuration section: declared settings and their typed form.

    [orthanc]
    username = ""              # HTTP basic authentication (or user:password@ in the URL)
    password = ""              # better: the environment variable GANTRY_ORTHANC_PASSWORD
    token = ""                 # a bearer token instead (or GANTRY_ORTHANC_TOKEN)
    connect_timeout = 10       # seconds to open the TCP (and TLS) connection
    read_timeout = 120         # seconds to wait for bytes of an answer (archives take a while to start)
    retries = 2                # extra attempts on connection errors, 5xx and 429 answers
    retry_backoff = 0.5        # first wait, doubled each time, plus up to as much jitter
    retry_max_wait = 10        # longest wait between attempts (a Retry-After up to retry_after_max wins)
    retry_after_max = 60       # longest Retry-After honoured, in seconds
    breaker_failures = 5       # consecutive failures that open the node's circuit breaker
    breaker_reset = 30         # seconds it stays open before one trial request
    page_size = 100            # /tools/find answers asked per request (Limit/Since paging)
    poll_interval = 2          # seconds between /changes polls when following
    verify_tls = true          # check the server certificate of orthanc+https:// URLs
    ca_bundle = ""             # a CA file to check it against (default: the system's)
    case_sensitive = false     # /tools/find CaseSensitive for PN values (false, as Orthanc's C-FIND SCP)

Secrets never appear in logs or messages: URLs are shown with the password masked.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs

from gantry import Setting
from gantry.resilience import BreakerPolicy, RetryPolicy, resilience_settings

PASSWORD_ENV = "GANTRY_ORTHANC_PASSWORD"
TOKEN_ENV = "GANTRY_ORTHANC_TOKEN"


def declared_settings() -> list[Setting]:
    return [
        *resilience_settings(retried="connection errors, timeouts, HTTP 5xx and 429", retry_after=True),
        Setting(name="username", type="str", default="", help="HTTP basic authentication user"),
        Setting(name="password", type="str", default="",
                help=f"HTTP basic authentication password (or ${PASSWORD_ENV}); never logged"),
        Setting(name="token", type="str", default="",
                help=f"bearer token sent as 'Authorization: Bearer ...' (or ${TOKEN_ENV}); never logged"),
        Setting(name="connect_timeout", type="float", default=10.0, help="seconds to open a connection"),
        Setting(name="read_timeout", type="float", default=120.0,
                help="seconds to wait for the next bytes of an answer"),
        Setting(name="page_size", type="int", default=100, help="answers per /tools/find request"),
        Setting(name="poll_interval", type="float", default=2.0, help="seconds between /changes polls"),
        Setting(name="verify_tls", type="bool", default=True,
                help="verify the server certificate of orthanc+https:// URLs"),
        Setting(name="ca_bundle", type="str", default="", help="CA certificates file for orthanc+https://"),
        Setting(name="case_sensitive", type="bool", default=False,
                help="/tools/find CaseSensitive: whether PN matching is case-sensitive"),
    ]


@attrs.frozen(kw_only=True)
class Timeouts:
    connect: float = 10.0
    read: float = 120.0


@attrs.frozen(kw_only=True)
class Credentials:
    """Basic or bearer credentials. ``repr`` never shows the secret."""

    username: str = ""
    password: str = attrs.field(default="", repr=lambda value: "***" if value else "''")
    token: str = attrs.field(default="", repr=lambda value: "***" if value else "''")

    @property
    def kind(self) -> str:
        return "bearer" if self.token else "basic" if self.username else "none"


@attrs.frozen(kw_only=True)
class OrthancSettings:
    """The section as typed values (the kernel has already checked each value's type)."""

    credentials: Credentials = attrs.field(factory=Credentials)
    timeouts: Timeouts = attrs.field(factory=Timeouts)
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    breaker: BreakerPolicy = attrs.field(factory=BreakerPolicy)
    page_size: int = 100
    poll_interval: float = 2.0
    verify_tls: bool = True
    ca_bundle: str = ""
    case_sensitive: bool = False

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any] | None,
                     env: Mapping[str, str] | None = None) -> OrthancSettings:
        env = os.environ if env is None else env
        values = {setting.name: setting.default for setting in declared_settings()}
        values.update(settings or {})
        return cls(
            credentials=Credentials(username=str(values["username"] or ""),
                                    password=str(values["password"] or env.get(PASSWORD_ENV, "")),
                                    token=str(values["token"] or env.get(TOKEN_ENV, ""))),
            timeouts=Timeouts(connect=float(values["connect_timeout"]), read=float(values["read_timeout"])),
            retry=RetryPolicy.from_settings(values),
            breaker=BreakerPolicy.from_settings(values),
            page_size=max(1, int(values["page_size"])),
            poll_interval=max(0.01, float(values["poll_interval"])),
            verify_tls=bool(values["verify_tls"]),
            ca_bundle=str(values["ca_bundle"] or ""),
            case_sensitive=bool(values["case_sensitive"]),
        )
