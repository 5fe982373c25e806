"""``gantry find`` through the real command group, against our own Listener."""

from __future__ import annotations

import json

from click.testing import CliRunner

from gantry.cli import make_app


def test_find_json_prints_one_object_per_answer(indexed_site, our_listener, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no site gantry.toml
    ours = our_listener(indexed_site.kernel)
    result = CliRunner().invoke(make_app(), [
        "find", f"dicom://OURAE@127.0.0.1:{ours.port}", "--level", "study", "-k", "PatientName=PLANTED*",
        "-k", "StudyDate=20240101-20241231", "-k", "StudyInstanceUID=", "--json"])
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.output.strip().splitlines()]
    expected = indexed_site.query("study", {"PatientName": "PLANTED*", "StudyDate": "20240101-20241231"})
    assert sorted(answer["StudyInstanceUID"] for answer in answers) == sorted(row["StudyInstanceUID"] for row in expected)
    assert all(set(answer) == {"PatientName", "StudyDate", "StudyInstanceUID"} for answer in answers)


def test_find_table_and_patient_level(indexed_site, our_listener, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ours = our_listener(indexed_site.kernel)
    result = CliRunner().invoke(make_app(), ["find", f"dicom://OURAE@127.0.0.1:{ours.port}", "--level", "patient",
                                             "-k", "PatientID=", "-k", "PatientName=M*"])
    assert result.exit_code == 0, result.output
    header, row, summary = result.output.strip().splitlines()
    assert header.split() == ["PatientName", "PatientID"]  # in tag order and "MÜLLER^ANNA" in row and summary == "1 match"


def test_a_failed_query_exits_1_with_the_reason(indexed_site, our_listener, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ours = our_listener(indexed_site.kernel)
    result = CliRunner().invoke(make_app(), ["find", f"dicom://OURAE@127.0.0.1:{ours.port}", "--level", "series",
                                             "-k", "Modality=CT"])
    assert result.exit_code == 1 and "gantry find:" in result.output and "StudyInstanceUID" in result.output


def test_the_installed_kernel_offers_c_find_and_the_entry_module_is_lean(installed_kernel):
    import subprocess
    import sys

    assert installed_kernel.active("dimse-scu", "C-FIND").provider == "cfind"
    assert installed_kernel.active("dimse-scp", "C-FIND").provider == "cfind"
    assert "find" in installed_kernel.active("transport", "dicom").descriptor.operations
    code = ("import sys, gantry_cfind.plugin as p; p.gantry_dimse_services(); "
            "print(sorted(m for m in ('pynetdicom', 'pydicom') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
