"""Logging: JSON lines when asked, and no patient data unless the site turns it on."""

from __future__ import annotations

import json

import pytest

from gantry import log as gantry_log
from gantry.config import LogSettings
from gantry.testing.datasets import PLANTED_PHI


@pytest.fixture
def json_logs(capsys):
    def configure(**settings):
        gantry_log.configure(LogSettings(format="json", **settings), force=True)
        capsys.readouterr()

    yield configure
    gantry_log.configure(LogSettings(), force=True)


def _lines(capsys):
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_patient_identifiers_are_redacted_by_default(json_logs, capsys):
    json_logs()
    log = gantry_log.get_logger("test")
    log.warning("instance.rejected", patient_id=PLANTED_PHI["PatientID"], PatientName=PLANTED_PHI["PatientName"],
                accession_number=PLANTED_PHI["AccessionNumber"], who=gantry_log.Phi(PLANTED_PHI["PatientBirthDate"]),
                sop_class="CT Image Storage")
    (line,) = _lines(capsys)
    assert line["event"] == "instance.rejected"
    assert line["level"] == "warning"
    assert line["module"] == "test"
    assert line["sop_class"] == "CT Image Storage"
    for key in ("patient_id", "PatientName", "accession_number", "who"):
        assert line[key] == gantry_log.REDACTED
    assert not any(value in json.dumps(line) for value in PLANTED_PHI.values())


def test_site_can_allow_patient_data_in_logs(json_logs, capsys):
    json_logs(phi=True)
    gantry_log.get_logger("test").info("x", patient_id="P1", who=gantry_log.Phi("Doe^Jane"))
    (line,) = _lines(capsys)
    assert (line["patient_id"], line["who"]) == ("P1", "Doe^Jane")


def test_level_filters(json_logs, capsys):
    json_logs(level="warning")
    log = gantry_log.get_logger("test")
    log.info("quiet")
    log.error("loud")
    assert [line["event"] for line in _lines(capsys)] == ["loud"]


def test_first_configuration_wins_unless_forced(json_logs, capsys):
    json_logs()
    gantry_log.configure(LogSettings(format="console"))  # ignored: already configured
    assert gantry_log.settings().format == "json"
