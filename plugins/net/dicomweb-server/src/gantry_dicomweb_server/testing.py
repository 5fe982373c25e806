"""Helpers for tests of DICOMweb servers and clients: multipart bodies built and taken apart
independently of the server's own code paths (no shared parser); headless Chromium; the OHIF
viewer's published build, fetched once from the npm registry."""

from __future__ import annotations

from typing import Any


def multipart_body(parts: list[bytes], boundary: str = "gantry-test-boundary",
                   content_type: str = "application/dicom") -> tuple[bytes, str]:
    """A STOW-RS body and its Content-Type."""
    body = b"".join(f"--{boundary}\r\nContent-Type: {content_type}\r\n\r\n".encode() + part + b"\r\n"
                    for part in parts) + f"--{boundary}--\r\n".encode()
    return body, f'multipart/related; type="application/dicom"; boundary={boundary}'


def split_multipart(response: Any) -> list[tuple[str, bytes]]:
    """``(Content-Type, content)`` of each part of a multipart response (an httpx Response)."""
    import re

    content_type = response.headers["content-type"]
    assert content_type.startswith("multipart/related"), content_type
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    assert match, content_type
    dash = b"--" + match.group(1).encode()
    body = response.content
    closing = b"\r\n" + dash + b"--\r\n"
    assert body.startswith(dash) and body.endswith(closing), body[:80]
    parts = []
    for chunk in body[len(dash):-len(closing)].split(b"\r\n" + dash):
        head, _, content = chunk.partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().strip().split("\r\n"))
        parts.append((headers["Content-Type"], content))
    return parts


def chromium() -> str:
    import shutil

    import pytest

    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("Chromium is not installed: `make test` installs the Debian package 'chromium'")
    return found


def run_chromium(workdir: Any, *arguments: str, timeout: float = 90) -> str:
    """Headless Chromium with a throw-away profile under ``workdir``; its stdout."""
    import subprocess
    from pathlib import Path

    import pytest

    profile = Path(workdir) / "chromium-profile"
    profile.mkdir(exist_ok=True)
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--no-default-browser-check", "--disable-extensions",
               "--disable-background-networking", "--disable-sync", "--hide-scrollbars", "--mute-audio",
               "--force-device-scale-factor=1", f"--user-data-dir={profile}", *arguments]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=workdir)
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"Chromium did not finish within {timeout} s: {err.stderr!r}")
    assert done.returncode == 0, f"chromium exited {done.returncode}: {done.stderr[-2000:]}"
    return done.stdout


#: The OHIF viewer release the tests load (its ``dist`` is in the npm package ``@ohif/app``).
OHIF_VERSION = "3.13.2"


def ohif_dist(cache: Any = None) -> Any:
    """The folder of OHIF's built viewer, downloaded once from the npm registry into ``cache``
    (default ``$GANTRY_TEST_CACHE`` or ``~/.cache/gantry-tests``), checked against the
    registry's SHA-512 integrity, then unpacked."""
    import base64
    import hashlib
    import json
    import os
    import tarfile
    import urllib.request
    from pathlib import Path

    root = Path(cache or os.environ.get("GANTRY_TEST_CACHE") or Path.home() / ".cache" / "gantry-tests")
    target = root / f"ohif-{OHIF_VERSION}"
    if (target / "dist" / "index.html").is_file():
        return target / "dist"
    root.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(f"https://registry.npmjs.org/@ohif%2fapp/{OHIF_VERSION}", timeout=60) as answer:
        meta = json.load(answer)["dist"]
    algorithm, _, expected = meta["integrity"].partition("-")
    archive = root / f"ohif-{OHIF_VERSION}.tgz"
    digest = hashlib.new(algorithm)
    with urllib.request.urlopen(meta["tarball"], timeout=300) as answer, open(archive, "wb") as out:
        while chunk := answer.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if base64.b64encode(digest.digest()).decode() != expected:
        archive.unlink()
        raise RuntimeError(f"the OHIF {OHIF_VERSION} package does not match the registry's {algorithm} integrity")
    unpacking = root / f"ohif-{OHIF_VERSION}.part"
    with tarfile.open(archive) as package:
        package.extractall(unpacking, filter="data")
    archive.unlink()
    (unpacking / "package").rename(target)
    unpacking.rmdir()
    return target / "dist"
