"""The run end to end: the planted-PHI corpus in, a verified folder out, the report, resuming.

Real providers (gantry-uidmap, gantry-dateshift, gantry-files, gantry-phi-audit) through the
installed kernel, a real SQLite backend, dciodvfy on input and output.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pydicom
import pytest
from click.testing import CliRunner

from gantry.cli import make_app
from gantry.session import Session
from gantry.testing.phi_corpus import write_phi_corpus
from gantry_deid.config_file import load_config
from gantry_deid.runner import DeidRun
from gantry_deid.tables import table_e1_1

SECRET = b"a test site secret of some length"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    return folder, write_phi_corpus(folder, [row.tag_text for row in table_e1_1().rows])


def run(kernel, tmp_path, inputs, preset=None, workers=1, **options):
    with Session(f"sqlite:///{tmp_path}/index.db", kernel=kernel) as session:
        deid = DeidRun(kernel, session.backend, load_config(preset), output=str(tmp_path / "out"),
                       secret=SECRET, database=session.database, workers=workers, **options)
        return deid.run([str(p) for p in inputs])


def outputs(tmp_path):
    return sorted((tmp_path / "out").rglob("*.dcm"))


def digests(paths):
    return {str(p): hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths}


def test_no_planted_value_survives_anywhere_in_the_output(installed_kernel, tmp_path, corpus):
    folder, planted = corpus
    before = digests(planted.files)
    report = run(installed_kernel, tmp_path, [folder], workers=2)
    assert report.failures == []
    written = outputs(tmp_path)
    assert len(written) == report.count("written") > 0
    # Tokens with letters are searched in the raw bytes (preamble and File Meta included). Numbers,
    # dates and times can turn up by chance inside the long decimal 2.25 UIDs, so those are
    # searched in every value except UIDs.
    everything = b"".join(path.read_bytes() for path in written)
    worded = [token for token in planted.tokens if not token.replace(".", "").replace("+", "").isdigit()]
    assert [token for token in worded if token.encode() in everything] == []
    numeric = set(planted.tokens) - set(worded)
    values = " ".join(str(element.value) for path in written
                      for dataset in (pydicom.dcmread(path),) for element in [*dataset.iterall(), *dataset.file_meta]
                      if element.VR not in ("UI", "SQ"))
    assert [token for token in numeric if token in values] == []
    assert digests(planted.files) == before  # originals untouched
    for path in written:
        data = path.read_bytes()
        assert data[:128] == bytes(128)  # preamble blanked
        dataset = pydicom.dcmread(path)
        assert dataset.PatientIdentityRemoved == "YES"
        assert dataset.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
        assert "SourceApplicationEntityTitle" not in dataset.file_meta
        assert all(not element.tag.is_private for element in dataset.iterall())
        assert path.stem == dataset.SOPInstanceUID  # named by the new UIDs only


def test_the_ultrasound_with_burned_in_text_is_held_for_review_not_passed(installed_kernel, tmp_path, corpus):
    folder, planted = corpus
    report = run(installed_kernel, tmp_path, [folder])
    held = [o for o in report.outcomes if o.status == "held"]
    assert {Path(o.source).name for o in held} == {"us.dcm"}
    assert report.grade == "REVIEW"
    written_sources = {Path(o.source).name for o in report.outcomes if o.status == "written"}
    assert "us.dcm" not in written_sources


def test_uids_and_dates_stay_consistent_within_each_patient(installed_kernel, tmp_path, corpus):
    folder, planted = corpus
    report = run(installed_kernel, tmp_path, [folder], preset="research", write_flagged=True)
    by_patient: dict[str, list] = {}  # the source folder says whose it was
    from datetime import date

    from gantry_uidmap import remap_uid

    def day(text):
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))

    shifts: dict[str, set[int]] = {}
    for outcome in report.outcomes:
        source, output = pydicom.dcmread(outcome.source), pydicom.dcmread(outcome.output)
        patient = Path(outcome.source).parent.name
        by_patient.setdefault(patient, []).append(output)
        if "FrameOfReferenceUID" in source:  # every UID maps through the keyed map, file by file
            assert output.FrameOfReferenceUID == remap_uid(source.FrameOfReferenceUID, SECRET)
        shifts.setdefault(patient, set()).add((day(output.StudyDate) - day(source.StudyDate)).days)
        assert output.LongitudinalTemporalInformationModified == "MODIFIED"
    assert sorted(by_patient) == ["patient1", "patient2"]
    assert all(len(datasets) == 5 for datasets in by_patient.values())
    for datasets in by_patient.values():
        cts = [d for d in datasets if d.Modality == "CT"]
        assert len({d.StudyInstanceUID for d in cts}) == 1  # one study, one new UID
    assert all(len(days) == 1 for days in shifts.values())  # one shift per patient, intervals kept
    assert all(next(iter(days)) < 0 for days in shifts.values())  # into the past
    assert shifts["patient1"] != shifts["patient2"]


def test_a_damaged_file_fails_closed_and_the_batch_goes_on(installed_kernel, tmp_path, corpus):
    folder, planted = corpus
    inputs = tmp_path / "in"
    shutil.copytree(folder / "patient1", inputs)
    whole = (inputs / "ct1.dcm").read_bytes()
    (inputs / "ct1.dcm").write_bytes(whole[: len(whole) // 2])
    (inputs / "notes.txt").write_text("not DICOM")
    report = run(installed_kernel, tmp_path, [inputs])
    failed = report.failures
    assert [Path(o.source).name for o in failed] == ["ct1.dcm"]
    assert report.grade == "FAIL"
    assert report.count("written") == 3  # ct2, ct3, the SR
    assert [Path(p).name for p in report.skipped_non_dicom] == ["notes.txt"]
    assert not list((tmp_path / "out").rglob("*.tmp")) and not list((tmp_path / "out").rglob(".gantry-tmp*"))


def test_an_interrupted_run_resumes_where_it_stopped(installed_kernel, tmp_path, corpus, monkeypatch):
    folder, planted = corpus
    from gantry_deid import runner

    monkeypatch.setattr(runner, "BATCH", 2)
    original = runner.DeidRun._flush
    calls = []

    def flush_then_crash(self, job_id):
        calls.append(job_id)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the operator, or a crash
        return original(self, job_id)

    monkeypatch.setattr(runner.DeidRun, "_flush", flush_then_crash)
    with pytest.raises(KeyboardInterrupt):
        run(installed_kernel, tmp_path, [folder])
    monkeypatch.setattr(runner.DeidRun, "_flush", original)
    report = run(installed_kernel, tmp_path, [folder])
    assert report.count("resumed") >= 2
    assert report.count("resumed") + report.count("written") + report.count("held") == len(planted.files)
    with Session(f"sqlite:///{tmp_path}/index.db", kernel=installed_kernel) as session:
        assert session.backend.verify_audit().ok
        assert session.backend.uid_map_get([pydicom.dcmread(planted.files[0]).SOPInstanceUID])


#: dciodvfy quotes a VALUE in angle brackets after "value" or "term" (an enumerated value, a
#: defined term) and after "] = " (an element's dump); the NAMES of elements, modules and
#: attributes are in angle brackets too (Element=<...> Module=<...>, attribute <...>) and must stay:
#: they are what tells one kind of error from another.
_QUOTED_VALUE = re.compile(r"((?:\bvalue|\bterm)\s+|\]\s*=\s*)<[^>]*>")


def error_kind(line):
    """A dciodvfy error line with its values blanked: de-identification changes values, and the
    kinds of error must not change."""
    return _QUOTED_VALUE.sub(r"\1<>", line)


def test_an_error_kind_keeps_the_names_and_drops_the_values():
    assert error_kind("Error - Unrecognized enumerated value <PHI0292> for value 1 of attribute <Patient's Sex>") \
        == "Error - Unrecognized enumerated value <> for value 1 of attribute <Patient's Sex>"
    assert error_kind("Error - Value invalid for this VR - (0x0010,0x0010) PN Patient's Name  PN [1] = <A^B> - x") \
        == "Error - Value invalid for this VR - (0x0010,0x0010) PN Patient's Name  PN [1] = <> - x"
    missing = "Error - Missing attribute Type 1 Required Element=<OverlayData> Module=<OverlayPlane>"
    assert error_kind(missing) == missing
    assert error_kind(missing) != error_kind(missing.replace("OverlayData", "PixelSpacing"))


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools is installed by make test")
@pytest.mark.parametrize("preset", [None, "research", "longitudinal-uids"])
def test_dciodvfy_reports_no_new_error_on_the_output(installed_kernel, tmp_path, corpus, preset):
    folder, planted = corpus
    report = run(installed_kernel, tmp_path, [folder / "patient1"], preset=preset, write_flagged=True)
    by_source = {o.source: o.output for o in report.outcomes if o.output}
    assert {Path(source).name for source in by_source} == {"ct1.dcm", "ct2.dcm", "ct3.dcm", "report-sr.dcm", "us.dcm"}

    def kinds(path):
        result = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True)
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
        return {error_kind(line) for line in errors}  # values differ, kinds must not

    new = {Path(source).name: kinds(output) - kinds(source) for source, output in by_source.items()}
    assert new == {name: set() for name in new}


def test_the_command_writes_the_report_beside_the_output_and_says_the_grade(tmp_path, corpus, monkeypatch):
    folder, planted = corpus
    monkeypatch.setenv("GANTRY_SECRET_FILE", str(tmp_path / "secret.key"))
    out = tmp_path / "shared"
    result = CliRunner().invoke(make_app(), ["deid", str(folder / "patient1"), str(out),
                                             "--db", f"sqlite:///{tmp_path}/i.db", "--workers", "1",
                                             "--json"], catch_exceptions=False)
    assert result.exit_code == 3  # REVIEW: the ultrasound is held
    report = json.loads(result.stdout)
    assert report["grade"] == "REVIEW" and report["counts"]["held"] == 1
    assert (tmp_path / "shared-report.md").is_file() and (tmp_path / "shared-report.json").is_file()
    assert not list(out.rglob("*report*"))  # the report never goes into what is shared
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0
    for token in planted.tokens:
        assert token not in result.stdout


def test_a_reversible_run_recovers_the_originals_with_the_key_only(tmp_path, corpus, monkeypatch):
    folder, planted = corpus
    monkeypatch.setenv("GANTRY_SECRET_FILE", str(tmp_path / "secret.key"))
    monkeypatch.setenv("GANTRY_PSEUDONYM_KEY", str(tmp_path / "pseudonym.key"))
    out, back = tmp_path / "shared", tmp_path / "recovered"
    result = CliRunner().invoke(make_app(), ["deid", str(folder / "patient1"), str(out), "--pseudonym",
                                             "--db", f"sqlite:///{tmp_path}/i.db", "--workers", "1"],
                                catch_exceptions=False)
    assert result.exit_code == 3, result.output  # the ultrasound is held, the rest written
    written = sorted(out.rglob("*.dcm"))
    assert written and all(0x04000500 in pydicom.dcmread(p) for p in written)
    everything = b"".join(p.read_bytes() for p in written)
    assert [t for t in planted.tokens if "PHI" in t and t.encode() in everything] == []
    recovered = CliRunner().invoke(make_app(), ["deid-recover", str(out), str(back),
                                                "--key", str(tmp_path / "pseudonym.key")],
                                   catch_exceptions=False)
    assert recovered.exit_code == 0, recovered.output
    names = {str(pydicom.dcmread(p).PatientName) for p in back.rglob("*.dcm")}
    assert names == {str(pydicom.dcmread(folder / "patient1" / "ct1.dcm").PatientName)}
