"""``gantry phi-audit``, run in-process through the real CLI (its kernel is built from the
installed entry points: gantry-part10 reads the files, gantry-phi-audit adds the command)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gantry.cli import make_app
from gantry.testing.datasets import PLANTED_PHI, make_dataset, write_dataset
from gantry_phi_audit.testing import simulated_basic_output


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No site configuration: no gantry.toml in the working folder, none named by the environment.
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    for variable in ("GANTRY_CONFIG", "GANTRY_DISABLE"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def folder(tmp_path: Path, planted: Any, to_part10: Any) -> Path:
    """clean/ holds two de-identified files and a text file; dirty/ adds the planted file."""
    clean = tmp_path / "audit" / "clean"
    (clean / "deeper").mkdir(parents=True)
    write_dataset(simulated_basic_output(make_dataset(instance=1)), clean / "one.dcm")
    write_dataset(simulated_basic_output(make_dataset(instance=2)), clean / "deeper" / "two.dcm")
    (clean / "notes.txt").write_text("not DICOM\n")
    dirty = tmp_path / "audit" / "dirty"
    dirty.mkdir()
    (dirty / "planted.dcm").write_bytes(to_part10(planted.dataset, preamble=b"KOWALSKI^ANNA"))
    return tmp_path / "audit"


def run(*arguments: str) -> Result:
    return CliRunner().invoke(make_app(), ["phi-audit", *arguments], catch_exceptions=False)


def test_a_clean_folder_exits_0(folder: Path) -> None:
    result = run(str(folder / "clean"))
    assert result.exit_code == 0, result.output
    assert "2 DICOM file(s) audited, 0 with findings, 0 finding(s); 1 non-DICOM file(s) skipped" in result.output


def test_json_lines_one_per_finding_then_a_summary(folder: Path, planted: Any) -> None:
    result = run("--json", str(folder))
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    *findings, summary = lines
    assert findings and all(line["type"] == "finding" for line in findings)
    assert set(findings[0]) == {"type", "path", "sop_instance_uid", "rule", "tag", "note"}
    assert {line["path"] for line in findings} == {str(folder / "dirty" / "planted.dcm")}
    places = {(line["tag"], line["rule"]) for line in findings}
    assert all((plant.path, plant.rule) in places for plant in planted.plants)
    assert ("preamble", "preamble-not-blank") in places
    assert summary == {
        "type": "summary", "files_audited": 3, "files_with_findings": 1, "findings": len(findings),
        "by_rule": summary["by_rule"], "not_dicom": 1, "unreadable": [],
    }
    assert sum(summary["by_rule"].values()) == len(findings)
    assert summary["by_rule"]["sr-text"] == 2


def test_the_table_counts_findings_by_rule_and_tag(folder: Path) -> None:
    twice = folder / "dirty" / "copy.dcm"
    twice.write_bytes((folder / "dirty" / "planted.dcm").read_bytes())
    result = run(str(folder / "dirty"))
    assert result.exit_code == 1
    row = next(line for line in result.output.splitlines() if "(0002,0016)" in line)
    assert "file-meta-identity" in row and row.rstrip(" │|").endswith("2")
    assert "2 DICOM file(s) audited, 2 with findings" in result.output


def test_the_output_never_shows_a_planted_value(folder: Path, planted: Any) -> None:
    values = planted.values + list(PLANTED_PHI.values()) + ["KOWALSKI"]
    for arguments in (["--json"], []):
        output = run(*arguments, str(folder)).output
        assert [value for value in values if value in output or value.upper() in output.upper()] == []


def test_one_rule_can_be_chosen(folder: Path) -> None:
    result = run("--json", "--rule", "phone", "--rule", "email", str(folder))
    assert result.exit_code == 1
    *findings, summary = [json.loads(line) for line in result.stdout.splitlines()]
    assert set(summary["by_rule"]) == {"phone", "email"}


def test_an_unreadable_dicom_file_fails_the_audit(folder: Path) -> None:
    damaged = folder / "clean" / "cut.dcm"
    damaged.write_bytes((folder / "clean" / "one.dcm").read_bytes()[:400])
    result = run("--json", str(folder / "clean"))
    assert result.exit_code == 1
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["findings"] == 0 and [row["path"] for row in summary["unreadable"]] == [str(damaged)]


def test_the_site_configuration_is_used(folder: Path, tmp_path: Path) -> None:
    pseudonymised = simulated_basic_output(make_dataset(instance=3))
    pseudonymised.PatientName = "SUBJ-0042"
    write_dataset(pseudonymised, folder / "clean" / "three.dcm")
    assert run(str(folder / "clean")).exit_code == 1
    Path("gantry.toml").write_text('[phi-audit]\ndummy_pattern = "SUBJ-\\\\d{4}"\n')
    result = run(str(folder / "clean"))
    assert result.exit_code == 0, result.output
