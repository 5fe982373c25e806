"""One HTTP client per adapter over Orthanc's REST API: httpx underneath, kept-alive connections,
timeouts, bounded retries with backoff and jitter, and the node's circuit breaker (both from
:mod:`gantry.resilience`, shared by every transport).

Worth a retry (:class:`gantry.resilience.RetryableFailure`): no connection, a timeout, a dropped
connection, HTTP 5xx and 429 (with its Retry-After). Final: any other answer; 401 and 403 are
:class:`AuthenticationFailed`, the rest :class:`OrthancHTTPError` with Orthanc's own message.

Orthanc closes idle keep-alive connections after a while. httpx notices a pooled connection the
server has closed before reusing it; when the server closes it at the very moment a request goes
out ("Server disconnected without sending a response"), an idempotent request is sent again at
once on a new connection, which does not count as a retry. Requests that must not run twice (starting a
job) are retried only when the connection could not be made at all.

Credentials go in an ``Authorization`` header built by httpx auth objects: they are never part of
a URL, a log line or a message.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from gantry import TransportError
from gantry.log import get_logger
from gantry.resilience import BREAKERS, CircuitBreaker, RetryableFailure, parse_retry_after, with_retries

from gantry_orthanc.urls import OrthancAddress

log = get_logger("gantry.orthanc")

CHUNK = 1 << 20
USER_AGENT = "gantry-orthanc/0.1"


class AuthenticationFailed(TransportError):
    """Orthanc refused our credentials (HTTP 401) or this request for them (HTTP 403)."""


class OrthancHTTPError(TransportError):
    """Orthanc answered an error other than 401/403, 5xx or 429 (400 Bad file format, 404 ...)."""

    def __init__(self, message: str, *, status: int, orthanc_message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.orthanc_message = orthanc_message


class _StaleConnection(Exception):
    """A kept-alive connection was found closed: send the request again right away."""


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer TOKEN`` (kept out of the client's headers, so out of any repr)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(***)"


def error_text(response: httpx.Response) -> str:
    """``HTTP 400 Bad Request: Bad file format (details)`` from Orthanc's JSON error, or the status."""
    message = details = ""
    try:
        body = response.json()
    except Exception:  # not JSON (a proxy's page ...): the reason phrase is enough
        body = None
    if isinstance(body, Mapping):
        message = str(body.get("Message") or body.get("OrthancError") or "")
        details = str(body.get("Details") or "")
    text = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    if message:
        text += f": {message}"
    if details and details != message:
        text += f" ({details})"
    return text


class OrthancClient:
    """Requests to one Orthanc (see the module docstring)."""

    def __init__(self, address: OrthancAddress, *, transport: httpx.BaseTransport | None = None) -> None:
        settings = address.settings
        self.address = address
        self.url = address.url
        credentials = settings.credentials
        auth: httpx.Auth | None = None
        if credentials.token:
            auth = BearerAuth(credentials.token)
        elif credentials.username:
            auth = httpx.BasicAuth(credentials.username, credentials.password)
        timeout = httpx.Timeout(connect=settings.timeouts.connect, read=settings.timeouts.read,
                                write=settings.timeouts.read, pool=settings.timeouts.connect)
        self.http = httpx.Client(base_url=address.base_url, auth=auth, timeout=timeout, verify=_verify(address),
                                 headers={"User-Agent": USER_AGENT}, transport=transport, follow_redirects=False,
                                 limits=httpx.Limits(max_connections=16, max_keepalive_connections=8))
        # One breaker per node: the scheme key holds the path prefix, so two Orthancs behind one
        # proxy are two nodes.
        self.breaker: CircuitBreaker = BREAKERS.breaker(
            address.host, address.port, address.base_url, failures=settings.breaker.failures,
            reset=settings.breaker.reset, scheme=f"orthanc+{address.scheme}{address.prefix}")

    # -- requests ---------------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None,
                content: bytes | Callable[[], Any] | None = None, headers: Mapping[str, str] | None = None,
                idempotent: bool = True) -> httpx.Response:
        """The answer (read) to one request, after retries; errors as the module says.
        ``content`` may be a callable returning a fresh body (a file object) for each attempt."""

        def attempt() -> httpx.Response:
            for reconnect in (False, True):
                body = content() if callable(content) else content
                try:
                    return self._send(method, path, params=params, json=json, content=body, headers=headers,
                                      idempotent=idempotent, reconnect=reconnect)
                except _StaleConnection:
                    log.info("orthanc.reconnect", url=self.url, request=f"{method} {path}")
                finally:
                    if hasattr(body, "close"):
                        body.close()
            raise AssertionError("unreachable")  # pragma: no cover

        return self._retrying(attempt, f"{method} {path}")

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return _json(self.request("GET", path, params=params), self.url, path)

    def post_json(self, path: str, body: Any, *, idempotent: bool = True) -> Any:
        return _json(self.request("POST", path, json=body, idempotent=idempotent), self.url, path)

    def download(self, path: str, target: str, *, params: Mapping[str, Any] | None = None) -> int:
        """Stream ``GET path`` into the file ``target`` (rewritten on each attempt): its size."""

        def attempt() -> int:
            try:
                with self.http.stream("GET", path, params=params) as response:
                    self._check(response, "GET", path)
                    size = 0
                    with open(target, "wb") as sink:
                        for chunk in response.iter_bytes(CHUNK):
                            sink.write(chunk)
                            size += len(chunk)
                    return size
            except httpx.HTTPError as err:
                raise self._transport_failure(err, idempotent=True) from err

        return self._retrying(attempt, f"GET {path}")

    def close(self) -> None:
        self.http.close()

    # -- internals --------------------------------------------------------------------------

    def _retrying(self, attempt: Callable[[], Any], what: str) -> Any:
        settings = self.address.settings
        return with_retries(attempt, policy=settings.retry, breaker=self.breaker, where=f"{self.url} {what}",
                            on_retry=lambda number, wait, failure: log.warning(
                                "orthanc.retry", url=self.url, request=what, attempt=number, wait=round(wait, 3),
                                reason=failure.reason))

    def _send(self, method: str, path: str, *, idempotent: bool, reconnect: bool, **options: Any) -> httpx.Response:
        try:
            response = self.http.request(method, path, **options)
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as err:
            # The server closed a kept-alive connection as we used it: once, at once, on a new one.
            if idempotent and not reconnect:
                raise _StaleConnection() from err
            raise self._transport_failure(err, idempotent=idempotent) from err
        except httpx.HTTPError as err:
            raise self._transport_failure(err, idempotent=idempotent) from err
        self._check(response, method, path)
        return response

    def _check(self, response: httpx.Response, method: str, path: str) -> None:
        status = response.status_code
        if status < 400:
            return
        if not response.is_closed:
            response.read()
        text = error_text(response)
        if status >= 500 or status == 429:
            after = parse_retry_after(response.headers.get("Retry-After"))
            raise RetryableFailure(text, retry_after=after, status=status)
        if status == 401:
            hint = {"bearer": "the bearer token was refused",
                    "basic": f"user {self.address.settings.credentials.username!r} or its password was refused",
                    "none": "credentials are needed: give user:password@ in the URL or [orthanc] "
                            "username/password (or token)"}[self.address.settings.credentials.kind]
            raise AuthenticationFailed(f"{self.url}: authentication failed ({text}): {hint}")
        if status == 403:
            raise AuthenticationFailed(f"{self.url}: {method} {path} is forbidden for these credentials ({text})")
        raise OrthancHTTPError(f"{self.url}: {method} {path}: {text}", status=status,
                               orthanc_message=text)

    def _transport_failure(self, err: httpx.HTTPError, *, idempotent: bool) -> TransportError:
        reason = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
        if isinstance(err, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
            return RetryableFailure(f"cannot connect ({reason})", err)
        if isinstance(err, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)):
            if idempotent:
                return RetryableFailure(f"the connection failed ({reason})", err)
            return TransportError(f"{self.url}: the connection failed during a request that is not "
                                  f"repeated automatically ({reason})")
        return TransportError(f"{self.url}: {reason}")


def _json(response: httpx.Response, url: str, path: str) -> Any:
    try:
        return response.json()
    except ValueError as err:
        raise TransportError(f"{url}: {path} did not answer JSON: {err}") from err


def _verify(address: OrthancAddress) -> ssl.SSLContext | bool:
    settings = address.settings
    if address.scheme != "https":
        return True
    if not settings.verify_tls:
        return False
    if settings.ca_bundle:
        return ssl.create_default_context(cafile=settings.ca_bundle)
    return True


@contextmanager
def opened(address: OrthancAddress) -> Iterator[OrthancClient]:
    client = OrthancClient(address)
    try:
        yield client
    finally:
        client.close()
