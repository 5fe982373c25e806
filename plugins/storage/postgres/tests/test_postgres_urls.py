"""URL handling without a server: masking, finding and scrubbing passwords, naming the target."""

from __future__ import annotations

import pytest

from gantry import StorageError
from gantry_postgres.backend import connection_params, open_backend, session_statements
from gantry_postgres.urls import mask_password, passwords_in, scrub, target_of


@pytest.mark.parametrize("url, shown", [
    ("postgresql://ann:s3cret@db.example:5433/pacs", "postgresql://ann:***@db.example:5433/pacs"),
    ("postgres://ann:p%40ss%2Fw@[::1]/pacs?sslmode=require", "postgres://ann:***@[::1]/pacs?sslmode=require"),
    ("postgresql://ann@db/pacs?sslmode=verify-full&password=s3cret", "postgresql://ann@db/pacs?sslmode=verify-full&password=***"),
    ("postgresql://ann@db/pacs", "postgresql://ann@db/pacs"),
    ("postgresql:///pacs", "postgresql:///pacs"),
    ("postgresql://db.example/pacs?user=ann", "postgresql://db.example/pacs?user=ann"),
])
def test_passwords_are_masked(url: str, shown: str) -> None:
    assert mask_password(url) == shown


def test_passwords_are_found_as_written_and_decoded() -> None:
    assert set(passwords_in("postgresql://ann:p%40ss@db/x?password=two")) == {"p%40ss", "p@ss", "two"}
    assert passwords_in("postgresql://ann@db/x") == ()
    assert scrub('token "p%40ss" and p@ss', passwords_in("postgresql://ann:p%40ss@db/x")) == 'token "***" and ***'


def test_the_target_names_every_host_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PGHOST", "PGPORT", "PGUSER", "PGDATABASE"):
        monkeypatch.delenv(name, raising=False)
    assert str(target_of({"host": "a,b", "port": "5433,5434", "dbname": "x", "user": "u"})) == (
        "PostgreSQL at a:5433, b:5434 (database x, user u)")
    assert target_of({"host": "db"}).hosts == ("db:5432",)
    monkeypatch.setenv("PGPORT", "6000")
    assert target_of({}).hosts == ("the local Unix socket:6000",)


@pytest.mark.parametrize("url, words", [
    ("postgresql://ann:pa%zzss@127.0.0.1/db", "percent-encoded"),
    ("postgresql://ann:topsecret@127.0.0.1/db?bogus=1", "bogus"),
    ("mysql://ann:topsecret@127.0.0.1/db", "not a PostgreSQL URL"),
])
def test_malformed_urls_are_storage_errors_without_the_password(url: str, words: str) -> None:
    with pytest.raises(StorageError, match=words) as caught:
        open_backend(url)
    message = str(caught.value)
    assert "pa%zzss" not in message and "topsecret" not in message and "***" in message
    # The driver's error, which may quote the password, is not chained for tracebacks to show.
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__ or caught.value.__context__ is None


def test_settings_fill_in_what_the_url_leaves_out() -> None:
    defaults = {"connect_timeout": 2.5, "application_name": "gantry", "statement_timeout": 0}
    params = connection_params("postgresql://db/x", defaults, shown="", secrets=())
    assert (params["connect_timeout"], params["application_name"]) == ("3", "gantry")
    params = connection_params("postgresql://db/x?connect_timeout=7&application_name=mine", defaults,
                               shown="", secrets=())
    assert (params["connect_timeout"], params["application_name"]) == ("7", "mine")
    assert session_statements({"statement_timeout": 1.5}) == ["SET jit = off", "SET statement_timeout = 1500"]
    with pytest.raises(StorageError, match="statement_timeout"):
        session_statements({"statement_timeout": -1})
