"""The vendor story for real: wheels built and installed into fresh virtual environments.

Two environments, each made from wheels built here (no editable installs, no mocked entry points):
- ``site``: gantry-kernel, gantry-part10, gantry-vendor-codec-example and Gantry's own JPEG 2000
  codec, gantry-j2k (priority 50);
- ``broken_site``: the same plus a wheel of three deliberately broken plugins.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECTS = {
    "kernel": ROOT / "kernel",
    "part10": ROOT / "plugins" / "readers" / "part10",
    "vendor": ROOT / "contrib" / "vendor-codec-example",
    "j2k": ROOT / "plugins" / "codecs" / "j2k",
    "broken": ROOT / "tests" / "fixtures" / "broken-plugins",
}
J2K_LOSSLESS, J2K = "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"
BROKEN = ("broken-api", "broken-describe", "broken-import")

pytestmark = pytest.mark.slow


def _uv() -> str:
    beside = Path(sys.executable).with_name("uv")
    found = str(beside) if beside.exists() else shutil.which("uv")
    if not found:
        pytest.fail("uv is needed to build the test environments (make install puts it in .venv/bin)")
    return found


@pytest.fixture(scope="session")
def wheels(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("wheels")
    built = {}
    for name, project in PROJECTS.items():
        before = set(out.glob("*.whl"))
        subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(out)],
                       cwd=project, check=True, capture_output=True, timeout=300)
        (built[name],) = set(out.glob("*.whl")) - before
    return built


def _make_env(folder: Path, wheel_files: list[Path]) -> Path:
    subprocess.run([_uv(), "venv", "--quiet", "--python", sys.executable, str(folder)], check=True, timeout=300)
    python = folder / "bin" / "python"
    subprocess.run([_uv(), "pip", "install", "--quiet", "--python", str(python),
                    *map(str, wheel_files)], check=True, timeout=600)
    return folder


@pytest.fixture(scope="session")
def site(wheels, tmp_path_factory) -> Path:
    return _make_env(tmp_path_factory.mktemp("site") / "venv",
                     [wheels[n] for n in ("kernel", "part10", "vendor", "j2k")])


@pytest.fixture(scope="session")
def broken_site(wheels, tmp_path_factory) -> Path:
    return _make_env(tmp_path_factory.mktemp("broken-site") / "venv",
                     [wheels[n] for n in ("kernel", "part10", "vendor", "j2k", "broken")])


def gantry(venv: Path, *args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("GANTRY_", "VIRTUAL_ENV", "PYTHON"))}
    environment.update(env or {})
    return subprocess.run([str(venv / "bin" / "gantry"), *args], capture_output=True, text=True,
                          cwd=cwd, env=environment, timeout=120)


def plugins_json(venv: Path, cwd: Path, *options: str, env: dict[str, str] | None = None) -> dict[str, dict]:
    result = gantry(venv, *options, "plugins", "--json", cwd=cwd, env=env)
    assert result.returncode == 0, result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)}


def active(rows: dict[str, dict], key: str, family: str = "decoder") -> list[str]:
    return [item["provider"] for row in rows.values() for item in row["provides"]
            if item["family"] == family and item["key"] == key and item["active"]]


def test_fresh_environment_holds_only_the_wheels(site):
    pip_list = subprocess.run([_uv(), "pip", "list", "--python", str(site / "bin" / "python"), "--format", "json"],
                              capture_output=True, text=True, check=True).stdout
    installed = {row["name"]: row for row in json.loads(pip_list)}
    for name in ("gantry-kernel", "gantry-part10", "gantry-vendor-codec-example", "gantry-j2k"):
        assert name in installed and "editable_project_location" not in installed[name]
    assert "gantry-broken-plugins" not in installed


def test_vendor_plugin_wins(site, tmp_path):
    rows = plugins_json(site, tmp_path)
    assert {name: row["status"] for name, row in rows.items()} == {
        "part10": "loaded", "j2k": "loaded", "vendor-j2k": "loaded"}
    assert rows["vendor-j2k"]["distribution"] == "gantry-vendor-codec-example"
    assert rows["vendor-j2k"]["version"] == "0.1.0"
    for key in (J2K_LOSSLESS, J2K):
        assert active(rows, key) == ["vendor-j2k-openjpeg"]
    ours = {(item["family"], item["key"]): item for item in rows["j2k"]["provides"]}
    assert ours[("decoder", J2K_LOSSLESS)]["priority"] == 50 and ours[("decoder", J2K_LOSSLESS)]["active"] is False
    # The vendor only decodes: encoding JPEG 2000 stays with ours.
    assert active(rows, J2K_LOSSLESS, family="encoder") == ["j2k-openjpeg"]


DECODE_SCRIPT = r"""
import json, sys
import numpy as np, openjpeg
from gantry import Kernel, CodecError
kernel = Kernel.from_config()
image = (np.arange(64 * 48, dtype=np.uint16) * 7 % 4096).reshape(48, 64)
frame = openjpeg.encode(image, bits_stored=12)
decoded = kernel.call("decoder", "1.2.840.10008.1.2.4.90", frame)
result = {"exact": bool(np.array_equal(decoded, image)),
          "active": kernel.active("decoder", "1.2.840.10008.1.2.4.90").provider}
try:
    kernel.call("decoder", "1.2.840.10008.1.2.4.90", b"\xff\x4f\xff\x51" + b"\x00" * 40, what="corrupt.dcm frame 1")
except CodecError as error:
    result["tried"] = [name for name, _ in error.attempts]
    result["message"] = str(error)
print(json.dumps(result))
"""


def test_vendor_decodes_and_falls_back_to_ours(site, tmp_path):
    result = subprocess.run([str(site / "bin" / "python"), "-c", DECODE_SCRIPT], capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["exact"] is True and outcome["active"] == "vendor-j2k-openjpeg"
    # A frame the vendor cannot decode goes to the next provider; when all fail, both are named.
    assert outcome["tried"] == ["vendor-j2k-openjpeg", "j2k-openjpeg"]
    assert "corrupt.dcm frame 1" in outcome["message"]
    assert "provider.failed_falling_back" in result.stderr


def test_vendor_disabled_by_configuration(site, tmp_path):
    (tmp_path / "gantry.toml").write_text('[plugins]\ndisable = ["vendor-j2k"]\n')
    rows = plugins_json(site, tmp_path)
    assert rows["vendor-j2k"]["status"] == "disabled"
    assert rows["vendor-j2k"]["provides"] == []
    assert active(rows, J2K_LOSSLESS) == ["j2k-openjpeg"]


def test_vendor_disabled_by_environment(site, tmp_path):
    rows = plugins_json(site, tmp_path, env={"GANTRY_DISABLE": "vendor-j2k"})
    assert rows["vendor-j2k"]["status"] == "disabled"
    assert active(rows, J2K) == ["j2k-openjpeg"]


def test_site_priority_override_and_pin(site, tmp_path):
    (tmp_path / "site.yaml").write_text(
        "plugins:\n  priority:\n    j2k-openjpeg: 200\n  pin:\n    decoder:\n      '1.2.840.10008.1.2.4.91': vendor-j2k-openjpeg\n")
    rows = plugins_json(site, tmp_path, "--config", "site.yaml")
    assert active(rows, J2K_LOSSLESS) == ["j2k-openjpeg"]
    assert active(rows, J2K) == ["vendor-j2k-openjpeg"]


def test_broken_plugins_are_reported_and_the_kernel_carries_on(broken_site, tmp_path):
    result = gantry(broken_site, "plugins", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert {name: rows[name]["status"] for name in rows} == {
        "broken-api": "failed", "broken-describe": "failed", "broken-import": "failed",
        "part10": "loaded", "j2k": "loaded", "vendor-j2k": "loaded"}
    assert "No module named 'gantry_vendor_sdk_that_is_not_installed'" in rows["broken-import"]["error"]
    assert "targets Gantry plugin API 2.0" in rows["broken-api"]["error"]
    assert "raised while describing itself in gantry_codecs: RuntimeError: licence check failed" in rows["broken-describe"]["error"]
    for name in BROKEN:
        assert rows[name]["distribution"] == "gantry-broken-plugins" and rows[name]["provides"] == []
    assert active(rows, J2K_LOSSLESS) == ["vendor-j2k-openjpeg"]
    # Not a terminal: the failures are logged as JSON lines on stderr.
    logged = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert sorted(line["plugin"] for line in logged if line["event"] == "plugin.failed") == list(BROKEN)


def test_other_commands_still_work_beside_broken_plugins(broken_site, tmp_path):
    script = ("from gantry.testing.datasets import make_dataset, write_dataset; "
              "write_dataset(make_dataset(), 'image.dcm')")
    subprocess.run([str(broken_site / "bin" / "python"), "-c", script], cwd=tmp_path, check=True, timeout=120)
    result = gantry(broken_site, "scan", "--json", "image.dcm", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [row["modality"] for row in json.loads(result.stdout)["files"]] == ["CT"]


def test_strict_mode_refuses_broken_plugins(broken_site, tmp_path):
    result = gantry(broken_site, "--strict-plugins", "plugins", "--json", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    for name in BROKEN:
        assert name in result.stderr
    assert "strict plugin mode" in result.stderr


def test_disabling_broken_plugins_satisfies_strict_mode(broken_site, tmp_path):
    rows = plugins_json(broken_site, tmp_path, "--strict-plugins", env={"GANTRY_DISABLE": ",".join(BROKEN)})
    assert {name: rows[name]["status"] for name in BROKEN} == dict.fromkeys(BROKEN, "disabled")


def test_uninstalling_the_vendor_falls_back(wheels, tmp_path):
    venv = _make_env(tmp_path / "venv", [wheels[n] for n in ("kernel", "part10", "vendor", "j2k")])
    assert active(plugins_json(venv, tmp_path), J2K_LOSSLESS) == ["vendor-j2k-openjpeg"]
    subprocess.run([_uv(), "pip", "uninstall", "--quiet", "--python", str(venv / "bin" / "python"),
                    "gantry-vendor-codec-example"], check=True, timeout=120)
    rows = plugins_json(venv, tmp_path)
    assert "vendor-j2k" not in rows
    assert active(rows, J2K_LOSSLESS) == ["j2k-openjpeg"]
