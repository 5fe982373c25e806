"""dcmtk's getscu against our C-GET SCP."""

from __future__ import annotations

import subprocess

import pydicom

from gantry_dimse.testing import DCMTK_ENV, dcmtk


def test_getscu_receives_a_study(indexed_site, our_listener, tmp_path):
    ours = our_listener(indexed_site.kernel)
    study_uid = indexed_site.study_uids()[0]
    out = tmp_path / "getscu"
    out.mkdir()
    finished = subprocess.run([dcmtk("getscu"), "-v", "-S", "-aet", "DCMTK", "-aec", "OURAE",
                               "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={study_uid}",
                               "-od", str(out), "127.0.0.1", str(ours.port)],
                              capture_output=True, text=True, timeout=60, env=DCMTK_ENV)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    received = {str(pydicom.dcmread(path).SOPInstanceUID) for path in out.iterdir()}
    assert received == {row["SOPInstanceUID"] for row in indexed_site.query("instance", {"StudyInstanceUID": study_uid})}
