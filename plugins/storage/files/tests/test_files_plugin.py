"""The kernel finds the store through its entry point; the entry module stays lean; put_file streams."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

import gantry_files.plugin as files_plugin
from gantry import ConfigError
from gantry_files.store import FileStore


def test_installed_kernel_opens_a_plain_folder_with_this_store(installed_kernel, tmp_path, uids):
    assert installed_kernel.active("instance-store", "file").provider == "files"
    store = installed_kernel.open_instance_store(str(tmp_path / "store"))
    assert isinstance(store, FileStore)
    assert store.root == (tmp_path / "store").resolve() and store.fsync is True
    assert store.put(b"DICM", **uids).location.startswith(str(store.root))


def test_settings_reach_the_store(make_kernel, tmp_path, uids):
    kernel = make_kernel({"files": files_plugin}, config={"files": {"fsync": False, "file_mode": 0o600}})
    store = kernel.open_instance_store(f"file://{tmp_path}")
    assert store.fsync is False
    assert Path(store.put(b"DICM", **uids).location).stat().st_mode & 0o777 == 0o600


def test_a_wrong_setting_is_a_config_error(make_kernel):
    with pytest.raises(ConfigError, match="files.fsync"):
        make_kernel({"files": files_plugin}, config={"files": {"fsync": "yes"}})


def test_entry_module_does_not_import_the_store():
    code = "import sys, gantry_files.plugin; print('gantry_files.store' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "False"


def test_put_file_streams_a_large_file(tmp_path, store, uids):
    size = 50 << 20
    source = tmp_path / "large.dcm"
    expected = hashlib.sha256()
    with open(source, "wb") as out:
        for _ in range(size >> 20):
            chunk = os.urandom(1 << 20)
            expected.update(chunk)
            out.write(chunk)

    tracemalloc.start()
    try:
        stored = store.put_file(str(source), **uids)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 4 << 20, f"peak Python allocation {peak} bytes while copying {size}"
    assert (stored.size, stored.digest) == (size, expected.hexdigest())
    assert Path(stored.location).stat().st_size == size
