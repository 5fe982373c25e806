"""Our DICOMweb client (gantry-dicomweb) against our server: `gantry send`, `find` and `get` with a
`dicomweb+http://` URL, as a site switching from DIMSE to DICOMweb would run them."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
from click.testing import CliRunner

from gantry.cli import make_app


def run(*args: str):
    return CliRunner().invoke(make_app(), list(args), catch_exceptions=False)


def test_send_find_and_get_over_dicomweb_between_our_client_and_our_server(serve, instances, tmp_path):
    served = serve()
    url = "dicomweb+" + served.url
    sources = [str(instance.path) for instance in instances.values()]
    sent = run("send", url, *sources, "--json")
    assert sent.exit_code == 0, sent.output
    summary = [json.loads(line) for line in sent.output.strip().splitlines() if '"sent"' in line][-1]
    assert summary["sent"] == len(sources) and summary["failed"] == 0
    indexed = {row["SOPInstanceUID"] for row in served.query("instance")}
    assert indexed == {instance.sop_uid for instance in instances.values()}

    study_uid = next(iter(instances.values())).study_uid
    found = run("find", url, "--level", "series", "-k", f"StudyInstanceUID={study_uid}",
                "-k", "SeriesInstanceUID=", "--json")
    assert found.exit_code == 0, found.output
    answers = [json.loads(line) for line in found.output.strip().splitlines() if line.startswith("{")]
    series = {answer["SeriesInstanceUID"] for answer in answers if "event" not in answer}  # not log lines
    assert series == {instance.series_uid for instance in instances.values() if instance.study_uid == study_uid}

    out = tmp_path / "fetched"
    got = run("get", url, str(out), "-k", f"StudyInstanceUID={study_uid}")
    assert got.exit_code == 0, got.output
    fetched = {str(pydicom.dcmread(path).SOPInstanceUID): path for path in out.rglob("*.dcm")}
    wanted = {instance.sop_uid: instance for instance in instances.values() if instance.study_uid == study_uid}
    assert set(fetched) == set(wanted)
    for uid, instance in wanted.items():  # as stored: the very bytes that were sent
        assert Path(fetched[uid]).read_bytes() == instance.data
