"""``orthanc+http://`` and ``orthanc+https://`` URLs -> an :class:`OrthancAddress`.

    orthanc+http://127.0.0.1:8042                     Orthanc's REST API (the port defaults to 8042)
    orthanc+https://user:secret@pacs.example/orthanc  behind a proxy, under a path prefix, with basic auth
    orthanc+http://host:8042?timeout=5&retries=0      query overrides

Query keys: ``timeout`` (connect and read at once), ``connect_timeout``, ``read_timeout``,
``retries``, ``page_size``. Credentials in the URL win over ``[orthanc] username/password``; they
are percent-decoded, and every message shows the URL with the password masked.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

import attrs

from gantry import TransportError
from gantry.kernel import masked_url
from gantry.nodes import positive_seconds

from gantry_orthanc.settings import Credentials, OrthancSettings

SCHEMES = {"orthanc+http": "http", "orthanc+https": "https"}
DEFAULT_PORT = 8042
_TIMEOUT_KEYS = {"connect_timeout": "connect", "read_timeout": "read"}
QUERY_KEYS = ("timeout", *_TIMEOUT_KEYS, "retries", "page_size")


@attrs.frozen(kw_only=True)
class OrthancAddress:
    """Everything needed to talk to one Orthanc."""

    scheme: str
    """``http`` or ``https``."""
    host: str
    port: int
    prefix: str = ""
    """A path prefix ("" or "/orthanc"), for an Orthanc behind a reverse proxy."""
    settings: OrthancSettings = attrs.field(factory=OrthancSettings)

    @property
    def endpoint(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The REST API's root, without credentials: ``http://host:port/prefix``."""
        return f"{self.scheme}://{self.endpoint}{self.prefix}"

    @property
    def url(self) -> str:
        """The transport URL, never with a secret (the user name is shown, the password not)."""
        user = self.settings.credentials.username
        who = f"{user}:***@" if user and self.settings.credentials.password else (f"{user}@" if user else "")
        return f"orthanc+{self.scheme}://{who}{self.endpoint}{self.prefix}"

    def __str__(self) -> str:
        return self.url


def parse_orthanc_url(url: str, settings: OrthancSettings | None = None) -> OrthancAddress:
    """Resolve ``url``; TransportError (with the password masked) when it is not a valid one."""
    config = settings or OrthancSettings()
    try:
        return _parse(url, config)
    except (ValueError, TypeError) as err:
        raise TransportError(f"invalid Orthanc URL {masked_url(url)!r}: {err}") from None


def _parse(url: str, config: OrthancSettings) -> OrthancAddress:
    parts = urlsplit(url)
    scheme = SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise ValueError(f"the scheme must be orthanc+http:// or orthanc+https://, not {parts.scheme}://")
    if not parts.hostname:
        raise ValueError("no host (write orthanc+http://host:8042)")
    if parts.fragment:
        raise ValueError("an Orthanc URL has no #fragment")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the port must be a number from 1 to 65535") from None
    if port == 0:
        raise ValueError("the port must be a number from 1 to 65535")
    credentials = config.credentials
    if parts.username:
        credentials = Credentials(username=unquote(parts.username), password=unquote(parts.password or ""),
                                  token=credentials.token)
    query = _query(parts.query)
    timeouts, retry = config.timeouts, config.retry
    if "timeout" in query:
        seconds = positive_seconds(query["timeout"], "timeout")
        timeouts = attrs.evolve(timeouts, connect=seconds, read=seconds)
    for key, field in _TIMEOUT_KEYS.items():
        if key in query:
            timeouts = attrs.evolve(timeouts, **{field: positive_seconds(query[key], key)})
    if "retries" in query:
        retry = attrs.evolve(retry, retries=_whole(query["retries"], "retries", 0))
    page_size = _whole(query["page_size"], "page_size", 1) if "page_size" in query else config.page_size
    return OrthancAddress(scheme=scheme, host=parts.hostname, port=port or DEFAULT_PORT,
                          prefix=parts.path.rstrip("/"),
                          settings=attrs.evolve(config, credentials=credentials, timeouts=timeouts, retry=retry,
                                                page_size=page_size))


def _query(text: str) -> dict[str, str]:
    pairs = parse_qsl(text, keep_blank_values=True)
    unknown = sorted({key for key, _ in pairs} - set(QUERY_KEYS))
    if unknown:
        raise ValueError(f"unknown query key(s) {', '.join(unknown)}; allowed: {', '.join(QUERY_KEYS)}")
    return dict(pairs)


def _whole(text: str, key: str, minimum: int) -> int:
    if not text.isdigit() or int(text) < minimum:
        raise ValueError(f"{key}={text!r} must be a whole number >= {minimum}")
    return int(text)


