"""libpq URLs: how one is shown without its password, and where it points (for messages).

A password can sit in two places of a libpq URL: ``postgresql://user:secret@host/db`` and
``postgresql://user@host/db?password=secret``. Both are masked in every URL gantry shows, and
any error text that passes through here has the password removed, in the form written and
percent-decoded (libpq quotes a malformed URL part in its message, password or not).
"""

from __future__ import annotations

import os
import re
from urllib.parse import unquote

import attrs

SCHEMES = ("postgresql", "postgres")
MASK = "***"
DEFAULT_PORT = "5432"

# libpq reads user information up to the first '@' that comes before any '/'; the password is
# what follows the first ':' in it.
_USERINFO_PASSWORD = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:@/]*):(?P<password>[^@/]+)@")
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&]password=)(?P<password>[^&#]*)")


def scheme_of(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else ""


def for_libpq(url: str) -> str:
    """The URL as libpq takes it: the scheme in lower case (the kernel matched it in any case)."""
    scheme, _, rest = url.partition("://")
    return f"{scheme.lower()}://{rest}"


def mask_password(url: str) -> str:
    """``url`` with every password replaced by ``***``; unchanged when it holds none."""
    url = _USERINFO_PASSWORD.sub(lambda m: f"{m['head']}:{MASK}@", url, count=1)
    return _QUERY_PASSWORD.sub(lambda m: m["head"] + (MASK if m["password"] else ""), url)


def passwords_in(url: str) -> tuple[str, ...]:
    """Every password ``url`` holds, as written and percent-decoded, longest first."""
    found: set[str] = set()
    userinfo = _USERINFO_PASSWORD.match(url)
    written = [userinfo["password"]] if userinfo else []
    written += [match["password"] for match in _QUERY_PASSWORD.finditer(url)]
    for password in written:
        found.update({password, unquote(password)})
    return tuple(sorted((p for p in found if p), key=len, reverse=True))


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


@attrs.frozen
class Target:
    """Where a URL points, in words for messages (never the password)."""

    hosts: tuple[str, ...]
    """``host:port`` for each server libpq will try, in order."""
    database: str
    user: str

    def __str__(self) -> str:
        return (f"PostgreSQL at {', '.join(self.hosts)} "
                f"(database {self.database or '(default)'}, user {self.user or '(default)'})")


def target_of(params: dict[str, str]) -> Target:
    """The target of connection parameters as libpq parsed them, with libpq's defaults filled in
    from the environment (PGHOST, PGPORT, PGDATABASE, PGUSER) the way it would."""
    hosts = (params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST")
             or "the local Unix socket").split(",")
    ports = (params.get("port") or os.environ.get("PGPORT") or DEFAULT_PORT).split(",")
    if len(ports) == 1:
        ports = ports * len(hosts)
    pairs = tuple(f"{host or 'the local Unix socket'}:{port or DEFAULT_PORT}"
                  for host, port in zip(hosts, ports, strict=False))
    user = params.get("user") or os.environ.get("PGUSER") or ""
    database = params.get("dbname") or os.environ.get("PGDATABASE") or user
    return Target(hosts=pairs, database=database, user=user)
