"""HTTP for one DICOMweb server: httpx with credentials, timeouts, TLS, retries and the breaker.

Every request goes through :meth:`HttpClient.send`, with :mod:`gantry.resilience`'s retries
and the node's circuit breaker: a connection error, a timeout, HTTP 5xx (but 501 and 505) or 429 is a
failed attempt that is retried after an exponential backoff with jitter, or after the server's
``Retry-After`` when it sent one (capped by ``retry_after_max``). Any other answer (2xx, 4xx) is
returned to the caller, who knows what it means for its operation. When attempts are spent, the
caller gets a TransportError naming the server, the reason and the number of attempts.

A request body that streams (STOW-RS) is given as a factory, so each attempt sends it from the
start. A streamed answer (WADO-RS) is retried only until its status line arrives: once the body
is being read, an error is the caller's TransportError.

Credentials never reach a log or a message: the base URL has no userinfo, the token goes only in
the ``Authorization`` header, and logged URLs pass through ``masked_url``.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import quote

import httpx

from gantry import TransportError
from gantry.kernel import masked_url
from gantry.log import get_logger
from gantry.resilience import BREAKERS, CircuitBreaker, RetryableFailure, RetryPolicy, parse_retry_after, with_retries

from gantry_dicomweb.settings import DicomWebSettings
from gantry_dicomweb.urls import WebAddress

log = get_logger(__name__)

NOT_RETRIED_5XX = frozenset({501, 505})
USER_AGENT = "gantry-dicomweb/0.1"


class HttpClient:
    """One httpx client for one server root (connections are kept alive and reused)."""

    def __init__(self, address: WebAddress, settings: DicomWebSettings | None = None) -> None:
        settings = settings or DicomWebSettings()
        self.address = address
        self.policy = RetryPolicy(retries=address.retries, backoff=settings.retry.backoff,
                                  max_wait=settings.retry.max_wait, retry_after_max=settings.retry.retry_after_max)
        self.breaker: CircuitBreaker = BREAKERS.breaker(
            address.host, address.port, address.url, failures=settings.breaker.failures,
            reset=settings.breaker.reset, scheme=address.base.split("://", 1)[0])
        headers = {"User-Agent": USER_AGENT}
        auth: httpx.Auth | None = None
        credentials = address.credentials
        if credentials.token:
            headers["Authorization"] = f"Bearer {credentials.token}"
        elif credentials.username:
            auth = httpx.BasicAuth(credentials.username, credentials.password)
        self.http = httpx.Client(
            headers=headers, auth=auth, verify=_verify(address),
            timeout=httpx.Timeout(address.read_timeout, connect=address.connect_timeout),
            follow_redirects=False)

    def url(self, path: str) -> str:
        """``path`` under the service root (an absolute http(s) URL is kept as it is)."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.address.base}/{path.lstrip('/')}"

    def send(self, method: str, path: str, *, params: Iterable[tuple[str, str]] | Mapping[str, str] | None = None,
             headers: Mapping[str, str] | None = None, content: Callable[[], Iterable[bytes]] | bytes | None = None,
             stream: bool = False) -> httpx.Response:
        """The server's answer (not 5xx/429: those are retried, then a TransportError).
        With ``stream=True`` the body is not read yet: the caller closes the response."""
        target = self.url(path)
        if params:
            target += ("&" if "?" in target else "?") + encode_query(params)
        where = masked_url(self.address.url)

        def attempt() -> httpx.Response:
            body = content() if callable(content) else content
            request = self.http.build_request(method, target, headers=headers, content=body)
            try:
                response = self.http.send(request, stream=stream)
            except httpx.TransportError as err:  # connect, read, write, pool, protocol errors
                if "CERTIFICATE_VERIFY_FAILED" in str(err) or "WRONG_VERSION_NUMBER" in str(err):
                    # The server is there; its certificate (or protocol) is wrong: retrying cannot help.
                    raise TransportError(f"{where}: TLS failed: {err} (trust its CA with ca_bundle, "
                                         f"or check the URL's scheme)") from err
                raise RetryableFailure(f"{type(err).__name__}: {err or 'no answer'}", err) from err
            status = response.status_code
            if status == 429 or (status >= 500 and status not in NOT_RETRIED_5XX):
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                response.close()
                raise RetryableFailure(f"HTTP {status} {response.reason_phrase}".rstrip(), status=status,
                                       retry_after=retry_after)
            return response

        def on_retry(number: int, wait: float, failure: RetryableFailure) -> None:
            log.warning("dicomweb.retry", url=where, method=method, attempt=number, wait=round(wait, 3),
                        reason=failure.reason)

        return with_retries(attempt, policy=self.policy, breaker=self.breaker, on_retry=on_retry,
                            where=f"{where}: {method} {_path_of(target, self.address.base)} failed")

    def close(self) -> None:
        self.http.close()


#: Left as they are in query values: PS3.18 matching syntax. Orthanc 1.10, for one, does not
#: decode ``%2A`` back to ``*``, so a percent-encoded wildcard matched nothing there.
QUERY_SAFE = "*?,-.^_~:"


def encode_query(params: Iterable[tuple[str, str]] | Mapping[str, str]) -> str:
    pairs = params.items() if isinstance(params, Mapping) else params
    return "&".join(f"{quote(str(key), safe='')}={quote(str(value), safe=QUERY_SAFE)}" for key, value in pairs)


def _verify(address: WebAddress) -> ssl.SSLContext | bool:
    if not address.base.startswith("https://"):
        return True
    if address.ca_bundle:
        try:
            return ssl.create_default_context(cafile=address.ca_bundle)
        except (OSError, ssl.SSLError) as err:
            raise TransportError(f"{address.url}: cannot load ca_bundle {address.ca_bundle!r}: {err}") from err
    if not address.verify:
        log.warning("dicomweb.tls_unverified", url=address.url)
    return address.verify


def _path_of(target: str, base: str) -> str:
    """The resource, for messages: never the query, whose matching values may identify a patient."""
    path = target.split("?", 1)[0]
    return (path[len(base):] or "/") if path.startswith(base) else path


def describe_error(response: httpx.Response, limit: int = 300) -> str:
    """``HTTP 404 Not Found: <the start of the server's text>`` for messages."""
    try:
        text = response.text.strip().replace("\n", " ")
    except (httpx.ResponseNotRead, UnicodeDecodeError):
        text = ""
    head = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    return f"{head}: {text[:limit]}" if text else head
