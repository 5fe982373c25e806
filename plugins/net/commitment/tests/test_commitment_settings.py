"""The ``[commitment]`` section: defaults, the requestors table, and the errors that name the key."""

from __future__ import annotations

import pytest

from gantry import ConfigError
from gantry.testing.fixtures import kernel_with

from gantry_commitment.settings import CommitmentSettings, Requestor


def test_defaults() -> None:
    settings = CommitmentSettings.from_mapping(None)
    assert (settings.report_on, settings.requestors, settings.report_retries, settings.timeout) == ("same", (), 3, 30.0)


def test_requestors_are_found_by_ae_title() -> None:
    settings = CommitmentSettings.from_mapping({"report_on": "new", "requestors": [
        {"ae": " CT1 ", "host": "10.0.0.7", "port": "104"}]})
    assert settings.requestor("CT1") == Requestor(ae="CT1", host="10.0.0.7", port=104)
    assert settings.requestor("CT1  ") is not None and settings.requestor("MR1") is None


@pytest.mark.parametrize(("table", "message"), [
    ({"ae": "CT1", "host": "h"}, r"commitment.requestors\[0\]: needs port"),
    ({"ae": "CT1", "host": "h", "port": "x"}, r"commitment.requestors\[0\].port: must be a number"),
    ({"ae": "CT1", "host": "h", "port": 70000}, r"commitment.requestors\[0\].port: must be a number from 1 to 65535"),
    ("CT1@h:104", r"commitment.requestors\[0\]: must be a table"),
])
def test_bad_requestor_tables_name_the_key(table: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        CommitmentSettings.from_mapping({"requestors": [table]})


def test_the_kernel_checks_report_on() -> None:
    with pytest.raises(ConfigError, match="report_on"):
        kernel = kernel_with(config={"commitment": {"report_on": "later"}}, discover=True)
        CommitmentSettings.of(kernel)
    kernel = kernel_with(config={"commitment": {"report_on": "new"}}, discover=True)
    assert CommitmentSettings.of(kernel).report_on == "new"
