"""``dicom://`` URLs and named nodes -> a :class:`DicomAddress`.

    dicom://CALLED@host:port?calling=OURS&timeout=5     an address (port defaults to 104)
    dicom://pacs   or just   pacs                       a node named in [[dimse.nodes]]
    dicom://pacs?calling=OTHER                          a node, with query overrides

Query keys: ``calling``, ``timeout`` (connect, ACSE and DIMSE at once), ``connect_timeout``,
``acse_timeout``, ``dimse_timeout``, ``network_timeout``, ``retries``. AE titles are percent-decoded
(``MY%20AE``), 1-16 characters of the default repertoire without backslash or control characters;
leading and trailing spaces are not significant (PS3.5 6.2, AE). DICOM has no passwords: a URL with
one is refused, and messages show it masked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import attrs

from gantry import TransportError
from gantry.kernel import masked_url
from gantry.nodes import is_node_name, named_nodes, positive_seconds

from gantry_dimse.settings import DimseSettings, RetryPolicy, Timeouts

SCHEME = "dicom"
SECURE_SCHEME = "dicoms"
"""DIMSE over TLS (PS3.15 B.1): the same address; the caller brings the SSL context (gantry-tls)."""
DEFAULT_PORT = 104
AE_MAX_LENGTH = 16
_TIMEOUT_KEYS = {"connect_timeout": "connect", "acse_timeout": "acse", "dimse_timeout": "dimse",
                 "network_timeout": "network"}
QUERY_KEYS = ("calling", "timeout", *_TIMEOUT_KEYS, "retries")
NODE_KEYS = ("name", "url", "ae", "host", "port", "calling")


@attrs.frozen(kw_only=True)
class DicomAddress:
    """Everything needed to associate with one remote AE."""

    called_ae: str
    host: str
    port: int
    calling_ae: str
    timeouts: Timeouts = attrs.field(factory=Timeouts)
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    node: str | None = None
    """The configured node name this address came from, if any."""
    secure: bool = False
    """A dicoms:// address: associations must run over TLS."""

    @property
    def endpoint(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The canonical URL (never holds a secret: dicom:// URLs have none)."""
        scheme = SECURE_SCHEME if self.secure else SCHEME
        return f"{scheme}://{self.called_ae}@{self.endpoint}?calling={self.calling_ae}"

    def __str__(self) -> str:
        named = f"node {self.node!r} = " if self.node else ""
        return f"{named}{self.called_ae}@{self.endpoint} (calling {self.calling_ae})"


def validate_ae_title(value: str, what: str = "AE title") -> str:
    """The AE title without its non-significant spaces; ValueError saying what is wrong."""
    title = value.strip(" ")
    if not title:
        raise ValueError(f"{what} is empty")
    if len(title) > AE_MAX_LENGTH:
        raise ValueError(f"{what} {title!r} is {len(title)} characters long; at most {AE_MAX_LENGTH} are allowed")
    if "\\" in title:
        raise ValueError(f"{what} {title!r} contains a backslash")
    if any(ord(char) < 0x20 or ord(char) >= 0x7F for char in title):
        raise ValueError(f"{what} {title!r} contains control or non-ASCII characters")
    return title


def parse_dicom_url(url: str, settings: DimseSettings | Mapping[str, Any] | None = None) -> DicomAddress:
    """Resolve ``url`` (a dicom:// URL, ``dicom://NODE`` or a bare node name) to an address."""
    config = settings if isinstance(settings, DimseSettings) else DimseSettings.from_mapping(settings)
    shown = masked_url(url)
    try:
        return _parse(url, config)
    except (ValueError, TypeError) as err:
        raise TransportError(f"invalid DICOM URL {shown!r}: {err}") from None


def _parse(url: str, config: DimseSettings) -> DicomAddress:
    if "://" not in url:
        if not is_node_name(url):
            raise ValueError(f"expected {SCHEME}://CALLED@host:port or the name of a configured node")
        url = f"{SCHEME}://{url}"
    parts = urlsplit(url)
    if parts.scheme.lower() not in (SCHEME, SECURE_SCHEME):
        raise ValueError(f"the scheme must be {SCHEME}:// or {SECURE_SCHEME}://, not {parts.scheme}://")
    # dicoms://NODE asks for TLS to a configured node; it never turns a node's TLS off.
    secure = parts.scheme.lower() == SECURE_SCHEME
    if parts.password is not None:
        raise ValueError("DICOM associations have no passwords; remove ':...' after the AE title")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError("a DICOM URL has no path or fragment; write dicom://CALLED@host:port")
    query = _query(parts.query)
    nodes = named_nodes(config.nodes, "dimse", lambda entry, name: _node_address(entry, config, name))
    if "@" not in parts.netloc and parts.port is None and parts.hostname in nodes:
        base = nodes[parts.hostname]
        base = attrs.evolve(base, secure=True) if secure and not base.secure else base
        return _apply_query(base, query, config) if query else base
    if "@" not in parts.netloc:
        configured = ", ".join(sorted(nodes)) or "none configured"
        raise ValueError(f"no called AE title (write dicom://CALLED@{parts.netloc or 'host'}:port) and "
                         f"no node named {parts.netloc!r} in [[dimse.nodes]] ({configured})")
    if not parts.hostname:
        raise ValueError("no host after the '@'")
    called = validate_ae_title(unquote(parts.username or ""), "called AE title")
    port = _port(parts)
    base = DicomAddress(called_ae=called, host=parts.hostname, port=port,
                        calling_ae=validate_ae_title(config.calling_ae, "dimse.calling_ae"),
                        timeouts=config.timeouts, retry=config.retry, secure=secure)
    return _apply_query(base, query, config)


def _port(parts: Any) -> int:
    try:
        port = parts.port  # raises ValueError for text or out-of-range numbers
    except ValueError:
        raise ValueError("the port must be a number from 1 to 65535") from None
    if port is None:
        return DEFAULT_PORT
    if port == 0:
        raise ValueError("the port must be a number from 1 to 65535")
    return port


def _query(text: str) -> dict[str, str]:
    pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False)
    unknown = sorted({key for key, _ in pairs} - set(QUERY_KEYS))
    if unknown:
        raise ValueError(f"unknown query key(s) {', '.join(unknown)}; allowed: {', '.join(QUERY_KEYS)}")
    return dict(pairs)


def _apply_query(base: DicomAddress, query: Mapping[str, str], config: DimseSettings) -> DicomAddress:
    changes: dict[str, Any] = {}
    if "calling" in query:
        changes["calling_ae"] = validate_ae_title(query["calling"], "calling AE title (?calling=)")
    timeouts = base.timeouts
    if "timeout" in query:
        seconds = positive_seconds(query["timeout"], "timeout")
        timeouts = attrs.evolve(timeouts, connect=seconds, acse=seconds, dimse=seconds)
    for key, field in _TIMEOUT_KEYS.items():
        if key in query:
            timeouts = attrs.evolve(timeouts, **{field: positive_seconds(query[key], key)})
    changes["timeouts"] = timeouts
    if "retries" in query:
        if not query["retries"].isdigit():
            raise ValueError(f"retries={query['retries']!r} must be a whole number >= 0")
        changes["retry"] = attrs.evolve(base.retry, retries=int(query["retries"]))
    return attrs.evolve(base, **changes)


def _node_address(entry: Mapping[str, Any], config: DimseSettings, name: str) -> DicomAddress:
    unknown = sorted(set(entry) - set(NODE_KEYS))
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(NODE_KEYS)}")
    if "url" in entry:
        if set(entry) & {"ae", "host", "port"}:
            raise ValueError("give either url or ae/host/port, not both")
        if not isinstance(entry["url"], str) or "@" not in entry["url"]:
            raise ValueError(f"url must be dicom://CALLED@host:port, got {masked_url(str(entry['url']))!r}")
        address = _parse(entry["url"], attrs.evolve(config, nodes=()))
    else:
        if not isinstance(entry.get("ae"), str) or not isinstance(entry.get("host"), str) or not entry["host"]:
            raise ValueError("needs url, or ae and host (port defaults to 104)")
        port = entry.get("port", DEFAULT_PORT)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ValueError(f"port must be a number from 1 to 65535, got {port!r}")
        address = DicomAddress(called_ae=validate_ae_title(entry["ae"], "ae"), host=entry["host"], port=port,
                               calling_ae=validate_ae_title(config.calling_ae, "dimse.calling_ae"),
                               timeouts=config.timeouts, retry=config.retry)
    if "calling" in entry:
        address = attrs.evolve(address, calling_ae=validate_ae_title(str(entry["calling"]), "calling"))
    return attrs.evolve(address, node=name)
