"""The gantry command against the plugins installed in this environment (part10, vendor-j2k)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gantry.cli import make_app

HEAVY = ("numpy", "imagecodecs", "pynetdicom", "psycopg", "psycopg2", "sqlalchemy", "pydicom", "openjpeg",
         "sqlite3", "httpx")


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    """Run from an empty folder with no site configuration in the environment."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("GANTRY_"):
            monkeypatch.delenv(name)
    return tmp_path


def _run(*args, env=None, cwd=None):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GANTRY_")}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "gantry", *args], capture_output=True, text=True,
                          env=environment, cwd=cwd, timeout=60)


def test_plugins_json_is_the_documented_shape(clean_env):
    result = CliRunner().invoke(make_app(), ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [row["name"] for row in rows] == sorted(row["name"] for row in rows)
    by_name = {row["name"]: row for row in rows}
    for row in rows:
        assert set(row) == {"name", "distribution", "version", "status", "error", "provides"}
        for item in row["provides"]:
            assert set(item) == {"family", "key", "provider", "priority", "active"}
    part10 = by_name["part10"]
    assert (part10["distribution"], part10["version"], part10["status"], part10["error"]) == (
        "gantry-part10", "0.1.0", "loaded", None)
    assert {(p["family"], p["key"], p["active"]) for p in part10["provides"]} == {
        ("reader", "path", True), ("reader", "bytes", True), ("reader", "stream", True)}
    vendor = by_name["vendor-j2k"]
    assert vendor["distribution"] == "gantry-vendor-codec-example"
    assert {(p["key"], p["priority"], p["active"]) for p in vendor["provides"]} == {
        ("1.2.840.10008.1.2.4.90", 100, True), ("1.2.840.10008.1.2.4.91", 100, True)}


def test_python_dash_m_gantry_and_environment_disable(clean_env):
    result = _run("plugins", "--json", env={"GANTRY_DISABLE": "vendor-j2k"}, cwd=clean_env)
    assert result.returncode == 0, result.stderr
    vendor = {row["name"]: row for row in json.loads(result.stdout)}["vendor-j2k"]
    assert (vendor["status"], vendor["error"], vendor["provides"]) == ("disabled", None, [])


def test_disable_by_configuration_file(clean_env):
    Path("gantry.toml").write_text('[plugins]\ndisable = ["vendor-j2k"]\n')
    result = CliRunner().invoke(make_app(), ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    vendor = {row["name"]: row for row in json.loads(result.output)}["vendor-j2k"]
    assert vendor["status"] == "disabled"
    table = CliRunner().invoke(make_app(), ["plugins"]).output
    assert "disabled by" in table and "gantry.toml" in table


def test_table_shows_active_provider_per_key(clean_env):
    result = CliRunner().invoke(make_app(), ["plugins"])
    assert result.exit_code == 0, result.output
    assert "Active provider per capability" in result.output
    assert "vendor-j2k-openjpeg" in result.output


def test_configuration_errors_exit_2_and_name_the_key(clean_env):
    Path("site.toml").write_text('[plugins]\ndisable = ["no-such-plugin"]\n')
    result = _run("--config", "site.toml", "plugins", cwd=clean_env)
    assert result.returncode == 2
    assert "unknown plugin(s) no-such-plugin" in result.stderr
    assert "installed plugins:" in result.stderr and "part10" in result.stderr
    Path("gantry.toml").write_text('[log]\nformat = "yaml"\n')
    result = _run("plugins", cwd=clean_env)
    assert result.returncode == 2
    assert "log.format = 'yaml' is not allowed" in result.stderr


def test_strict_plugins_passes_when_nothing_failed(clean_env):
    result = _run("--strict-plugins", "plugins", "--json", cwd=clean_env)
    assert result.returncode == 0, result.stderr


def test_unknown_command_and_help(clean_env):
    result = _run("no-such-command", cwd=clean_env)
    assert result.returncode == 2
    assert "No such command" in result.stderr
    result = _run("--help", cwd=clean_env)
    assert result.returncode == 0
    assert "plugins" in result.stdout and "scan" in result.stdout  # scan comes from part10's hook


def test_discovery_imports_nothing_heavy(clean_env):
    """`gantry plugins --json` with every first-party plugin installed stays lean."""
    code = (
        "import sys, io, contextlib\n"
        "from gantry.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main(['plugins', '--json'])\n"
        "    except SystemExit as exit:\n        assert exit.code == 0, exit.code\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GANTRY_")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment,
                            cwd=clean_env, timeout=60)
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert "gantry_part10.plugin" in loaded and "gantry_vendor_codec_example.plugin" in loaded
    assert not [name for name in loaded if name.split(".")[0] in HEAVY]
