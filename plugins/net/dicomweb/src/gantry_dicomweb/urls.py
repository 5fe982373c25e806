"""``dicomweb+http(s)://`` URLs and named nodes -> a :class:`WebAddress`.

    dicomweb+http://127.0.0.1:8042/dicom-web                 the service root (QIDO/WADO/STOW under it)
    dicomweb+https://user:secret@pacs.example/dicom-web       basic auth from the URL's userinfo
    dicomweb+https://pacs.example/dicomweb?timeout=5&retries=0
    dicomweb://pacs                                           a node named in [[dicomweb.nodes]]

Query keys: ``timeout`` (connect and read), ``connect_timeout``, ``read_timeout``, ``retries``,
``page_size``. Secrets never go in the query (a token there would end up in server logs): use
the ``token``/``token_env`` settings, per node or for the section. The address's ``url`` is the
URL with any password masked; only the HTTP client sees the credentials.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import attrs

from gantry import TransportError
from gantry.kernel import masked_url
from gantry.nodes import named_nodes, positive_seconds

from gantry_dicomweb.settings import NODE_KEYS, Credentials, DicomWebSettings

SCHEMES = {"dicomweb+http": "http", "dicomweb+https": "https"}
NODE_SCHEME = "dicomweb"
QUERY_KEYS = ("timeout", "connect_timeout", "read_timeout", "retries", "page_size")


@attrs.frozen(kw_only=True)
class WebAddress:
    """Everything needed to talk to one DICOMweb service root."""

    base: str
    """``http(s)://host:port/prefix`` without a trailing slash and without userinfo."""
    host: str
    port: int
    credentials: Credentials = attrs.field(factory=Credentials)
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retries: int = 2
    page_size: int = 100
    verify: bool = True
    ca_bundle: str = ""
    node: str | None = None

    @property
    def url(self) -> str:
        """The canonical URL, safe to show: a password is masked, a token is never in it."""
        scheme, rest = self.base.split("://", 1)
        user = self.credentials.username
        userinfo = f"{quote(user, safe='')}:***@" if user and self.credentials.password else (
            f"{quote(user, safe='')}@" if user else "")
        return f"dicomweb+{scheme}://{userinfo}{rest}"

    @property
    def endpoint(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def __str__(self) -> str:
        named = f"node {self.node!r} = " if self.node else ""
        return f"{named}{self.url}"


def parse_dicomweb_url(url: str, settings: DicomWebSettings | Mapping[str, Any] | None = None) -> WebAddress:
    """Resolve ``url`` (a dicomweb+http(s) URL, ``dicomweb://NODE`` or a bare node name)."""
    config = settings if isinstance(settings, DicomWebSettings) else DicomWebSettings.from_mapping(settings)
    try:
        return _parse(url, config)
    except (ValueError, TypeError) as err:
        raise TransportError(f"invalid DICOMweb URL {masked_url(url)!r}: {err}") from None


def _parse(url: str, config: DicomWebSettings) -> WebAddress:
    if "://" not in url:
        url = f"{NODE_SCHEME}://{url}"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    query = _query(parts.query)
    if scheme == NODE_SCHEME:
        nodes = named_nodes(config.nodes, "dicomweb", lambda entry, name: _node_address(entry, config, name))
        name = parts.netloc
        if name not in nodes:
            configured = ", ".join(sorted(nodes)) or "none configured"
            raise ValueError(f"no node named {name!r} in [[dicomweb.nodes]] ({configured}); or write "
                             f"dicomweb+https://host:port/prefix")
        return _apply_query(nodes[name], query)
    if scheme not in SCHEMES:
        raise ValueError(f"the scheme must be dicomweb+http:// or dicomweb+https://, not {parts.scheme}://")
    if not parts.hostname:
        raise ValueError("no host")
    if parts.fragment:
        raise ValueError("a DICOMweb URL has no fragment")
    http_scheme = SCHEMES[scheme]
    try:
        port = parts.port or (443 if http_scheme == "https" else 80)
    except ValueError:
        raise ValueError("the port must be a number from 1 to 65535") from None
    host = parts.hostname
    shown_host = f"[{host}]" if ":" in host else host
    path = parts.path.rstrip("/")
    base = f"{http_scheme}://{shown_host}:{port}{path}"
    credentials = _credentials(config.credentials, config.token_env, "dicomweb")
    if parts.username is not None:
        credentials = Credentials(username=unquote(parts.username), password=unquote(parts.password or ""))
    address = WebAddress(base=base, host=host, port=port, credentials=credentials,
                         connect_timeout=config.connect_timeout, read_timeout=config.read_timeout,
                         retries=config.retry.retries, page_size=config.page_size, verify=config.verify,
                         ca_bundle=config.ca_bundle)
    return _apply_query(address, query)


def _credentials(base: Credentials, token_env: str, where: str) -> Credentials:
    if token_env:
        token = os.environ.get(token_env, "")
        if not token:
            raise ValueError(f"{where}.token_env names ${token_env}, which is not set or empty")
        return Credentials(token=token)
    return base


def _query(text: str) -> dict[str, str]:
    pairs = parse_qsl(text, keep_blank_values=True)
    unknown = sorted({key for key, _ in pairs} - set(QUERY_KEYS))
    if unknown:
        raise ValueError(f"unknown query key(s) {', '.join(unknown)}; allowed: {', '.join(QUERY_KEYS)} "
                         f"(credentials go in the configuration, never in the URL's query)")
    return dict(pairs)


def _apply_query(address: WebAddress, query: Mapping[str, str]) -> WebAddress:
    changes: dict[str, Any] = {}
    if "timeout" in query:
        changes["connect_timeout"] = changes["read_timeout"] = positive_seconds(query["timeout"], "timeout")
    for key in ("connect_timeout", "read_timeout"):
        if key in query:
            changes[key] = positive_seconds(query[key], key)
    for key in ("retries", "page_size"):
        if key in query:
            if not query[key].isdigit() or (key == "page_size" and int(query[key]) < 1):
                raise ValueError(f"{key}={query[key]!r} must be a whole number"
                                 f"{' >= 1' if key == 'page_size' else ' >= 0'}")
            changes[key] = int(query[key])
    return attrs.evolve(address, **changes) if changes else address


def _node_address(entry: Mapping[str, Any], config: DicomWebSettings, name: str) -> WebAddress:
    unknown = sorted(set(entry) - set(NODE_KEYS))
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(NODE_KEYS)}")
    target = entry.get("url")
    if not isinstance(target, str) or urlsplit(target).scheme.lower() not in SCHEMES:
        raise ValueError(f"url must be dicomweb+http(s)://host:port/prefix, got {masked_url(str(target))!r}")
    address = _parse(target, attrs.evolve(config, nodes=()))
    credentials = address.credentials
    if entry.get("token") or entry.get("token_env"):
        credentials = _credentials(Credentials(token=str(entry.get("token") or "")),
                                   str(entry.get("token_env") or ""), "node")
    elif entry.get("username"):
        credentials = Credentials(username=str(entry["username"]), password=str(entry.get("password") or ""))
    changes: dict[str, Any] = {"credentials": credentials, "node": name}
    if "ca_bundle" in entry:
        changes["ca_bundle"] = str(entry["ca_bundle"] or "")
    if "verify" in entry:
        if not isinstance(entry["verify"], bool):
            raise ValueError(f"verify must be true or false, got {entry['verify']!r}")
        changes["verify"] = entry["verify"]
    return attrs.evolve(address, **changes)
