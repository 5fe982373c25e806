"""dcmtk's movescu against our C-MOVE SCP, which sends to a dcmtk storescp."""

from __future__ import annotations

import subprocess

from gantry_dimse.testing import DCMTK_ENV, dcmtk


def test_movescu_moves_a_study_to_the_destination(moving_site, our_listener, destination):
    ours = our_listener(moving_site.kernel)
    study_uid = moving_site.study_uids()[0]
    finished = subprocess.run([dcmtk("movescu"), "-v", "-S", "-aet", "DCMTK", "-aec", "OURAE", "-aem", "DEST",
                               "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={study_uid}",
                               "127.0.0.1", str(ours.port)],
                              capture_output=True, text=True, timeout=60, env=DCMTK_ENV)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert destination.received() == {row["SOPInstanceUID"] for row in moving_site.query("instance", {"StudyInstanceUID": study_uid})}


def test_movescu_to_an_unknown_destination_is_refused(moving_site, our_listener, destination):
    ours = our_listener(moving_site.kernel)
    finished = subprocess.run([dcmtk("movescu"), "-v", "-S", "-aec", "OURAE", "-aem", "NOWHERE",
                               "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={moving_site.study_uids()[0]}",
                               "127.0.0.1", str(ours.port)],
                              capture_output=True, text=True, timeout=60, env=DCMTK_ENV)
    assert "MoveDestinationUnknown" in finished.stdout + finished.stderr
    assert destination.received() == set()
