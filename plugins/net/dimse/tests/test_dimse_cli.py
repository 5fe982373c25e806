"""``gantry echo`` and ``gantry listen`` through the real command group."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys

from click.testing import CliRunner

from gantry.cli import make_app


def run_gantry(*args: str, config: str | None = None):
    options = ["--config", config] if config else []
    return CliRunner().invoke(make_app(), [*options, *args])


def test_echo_prints_a_round_trip_per_echo(listener, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no site gantry.toml
    ours = listener()
    result = run_gantry("echo", f"dicom://OURAE@127.0.0.1:{ours.port}", "--count", "3")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 3 and all("status 0x0000" in line and line.endswith(" ms") for line in lines)
    assert lines[0].startswith(f"echo 1/3 OURAE@127.0.0.1:{ours.port}")
    assert ours.accepted == 1  # one association for the three


def test_echo_json_and_a_named_node_from_the_configuration(listener, tmp_path):
    ours = listener()
    config = tmp_path / "gantry.toml"
    config.write_text(f'[dimse]\ncalling_ae = "CLI"\n[[dimse.nodes]]\nname = "ourselves"\n'
                      f'url = "dicom://OURAE@127.0.0.1:{ours.port}"\n')
    result = run_gantry("echo", "ourselves", "--json", config=str(config))
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True and report["error"] is None
    assert report["url"] == f"dicom://OURAE@127.0.0.1:{ours.port}?calling=CLI"
    assert [echo["status"] for echo in report["echoes"]] == [0]


def test_echo_exits_1_with_the_reason_when_the_node_cannot_be_reached(free_port, tmp_path):
    port = free_port()
    config = tmp_path / "gantry.toml"
    config.write_text("[dimse]\nretries = 0\n")
    result = run_gantry("echo", f"dicom://PACS@127.0.0.1:{port}", config=str(config))
    assert result.exit_code == 1
    assert f"cannot reach PACS@127.0.0.1:{port}" in result.output and "Connection refused" in result.output
    as_json = json.loads(run_gantry("echo", f"dicom://PACS@127.0.0.1:{port}", "--json",
                                    config=str(config)).output)
    assert as_json["ok"] is False and "Connection refused" in as_json["error"]


def test_echo_exits_1_when_rejected(listener, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ours = listener(allow=("FRIEND",))
    result = run_gantry("echo", f"dicom://OURAE@127.0.0.1:{ours.port}?calling=STRANGER")
    assert result.exit_code == 1 and "Calling AE title not recognised" in result.output


def test_an_invalid_url_exits_1_and_says_why(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_gantry("echo", "dicom://PACS:secret@h:104")
    assert result.exit_code == 1 and "no passwords" in result.output and "secret" not in result.output


def test_listen_answers_until_interrupted(free_port, tmp_path, wait_for):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "gantry", "listen", f"dicom://OURAE@127.0.0.1:{port}",
                               "--allow", "X"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    env = {**os.environ, "TCP_NODELAY": "1"}

    def echo(calling: str) -> int:
        return subprocess.run([shutil.which("echoscu") or "echoscu", "-aet", calling, "-aec", "OURAE",
                               "127.0.0.1", str(port)], capture_output=True, timeout=60, env=env).returncode

    try:
        assert wait_for(lambda: echo("X") == 0, 20), "the listener never answered"
        assert echo("STRANGER") != 0
    finally:
        server.send_signal(signal.SIGINT)
        _, errors = server.communicate(timeout=20)
    assert server.returncode == 0, errors
    assert "listening as OURAE on 127.0.0.1" in errors and "calling AEs allowed: X" in errors
