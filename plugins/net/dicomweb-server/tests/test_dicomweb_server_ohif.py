"""The OHIF viewer (its published build, in headless Chromium) against `gantry serve`: its study
list shows our study, and its viewer loads the study's metadata and frames from us.

OHIF is served from its own origin, as a site would deploy it, so our CORS settings are what let
it read our answers. Its build comes from the npm registry once per machine (see
``gantry_dicomweb_server.testing.ohif_dist``)."""

from __future__ import annotations

import functools
import http.server
import io
import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from gantry.testing.datasets import make_dataset, write_dataset
from gantry.testing.network import free_port

from gantry_dicomweb_server.testing import ohif_dist, run_chromium

OHIF_CONFIG = """window.config = {{
  routerBasename: '/', extensions: [], modes: [], showStudyList: true, maxNumberOfWebWorkers: 1,
  showWarningMessageForCrossOrigin: false, showCPUFallbackMessage: false,
  defaultDataSourceName: 'gantry',
  dataSources: [{{
    namespace: '@ohif/extension-default.dataSourcesModule.dicomweb', sourceName: 'gantry',
    configuration: {{ friendlyName: 'Gantry', name: 'gantry', wadoUriRoot: '{root}/wado', qidoRoot: '{root}',
      wadoRoot: '{root}', qidoSupportsIncludeField: true, imageRendering: 'wadors', thumbnailRendering: 'wadors',
      enableStudyLazyLoad: true, supportsFuzzyMatching: false, supportsWildcard: true, staticWado: false,
      singlepart: 'bulkdata,video', bulkDataURI: {{ enabled: true }} }} }}],
}};
"""


class ViewerFiles(http.server.SimpleHTTPRequestHandler):
    """OHIF's build as a single-page application: its routes (/viewer ...) get index.html, and
    /app-config.js is ours."""

    config = b""

    def send_head(self) -> Any:
        path = self.path.split("?", 1)[0]
        if path == "/app-config.js":
            self.send_response(200)
            self.send_header("Content-Type", "application/javascript")
            self.send_header("Content-Length", str(len(self.config)))
            self.end_headers()
            return io.BytesIO(self.config)
        if path == "/" or not (Path(self.directory) / path.lstrip("/")).exists():
            self.path = "/index.html"
        return super().send_head()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def viewer_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        return ohif_dist()
    except OSError as err:
        pytest.fail(f"cannot fetch the OHIF viewer from the npm registry (needed for this test): {err}")


def test_ohif_lists_our_study_and_loads_its_frames(serve, viewer_build, tmp_path, capsys):
    viewer_port = free_port()
    served = serve(cors_origins=[f"http://127.0.0.1:{viewer_port}"])
    folder = tmp_path / "study"
    folder.mkdir()
    paths = [write_dataset(make_dataset(instance=number, rows=64, columns=64), folder / f"{number}.dcm")
             for number in (1, 2)]
    with served.kernel.open_transport("dicomweb+" + served.url) as peer:
        assert all(result.ok for result in peer.store([str(path) for path in paths]))
    study_uid = served.query("study")[0]["StudyInstanceUID"]

    handler = type("Handler", (ViewerFiles,), {"config": OHIF_CONFIG.format(root=served.url).encode()})
    files = http.server.ThreadingHTTPServer(("127.0.0.1", viewer_port),
                                            functools.partial(handler, directory=str(viewer_build)))
    thread = threading.Thread(target=files.serve_forever, daemon=True)
    thread.start()
    try:
        viewer = f"http://127.0.0.1:{viewer_port}"
        study_list = run_chromium(tmp_path, "--virtual-time-budget=20000", "--dump-dom", viewer + "/",
                                  timeout=150)
        capsys.readouterr()  # what the study list asked for is not what the viewer asks below
        run_chromium(tmp_path, "--virtual-time-budget=30000", "--dump-dom",
                     f"{viewer}/viewer?StudyInstanceUIDs={study_uid}", timeout=150)
        logged = capsys.readouterr().err
    finally:
        files.shutdown()
        thread.join(10)

    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<(style|script)\b.*?</\1>", " ", study_list,
                                                                   flags=re.S)))
    assert "PLANTED, PATIENT NAME" in text and "1-1 of 1" in text, text[-1500:]
    requests = [json.loads(line) for line in logged.splitlines() if '"http.access"' in line]
    asked = {(re.sub(r"[0-9.]{10,}", "UID", event["path"]), event["status"]) for event in requests}
    assert ("/dicom-web/studies/UID/series/UID/metadata", 200) in asked, asked
    assert ("/dicom-web/studies/UID/series/UID/instances/UID/frames/1", 200) in asked, asked
