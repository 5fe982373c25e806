"""Entry module: descriptors and settings only (the store module loads when a store is opened)."""

from __future__ import annotations

from gantry import InstanceStore, Setting, hookimpl

GANTRY_API_VERSION = "1.0"


@hookimpl
def gantry_instance_stores() -> list[InstanceStore]:
    return [
        InstanceStore(
            name="files",
            description="instances as files in a folder: root/<study>/<series>/<sop>.dcm, "
                        "atomic and durable writes, untrusted UIDs kept inside the root",
            schemes=("file",),
            priority=50,
            open="gantry_files.store:open_store",
        )
    ]


@hookimpl
def gantry_settings() -> list[Setting]:
    return [
        Setting(name="fsync", type="bool", default=True,
                help="flush every file and folder to disk before a write returns "
                     "(turn off only for scratch stores: a crash may then lose acknowledged instances)"),
        Setting(name="file_mode", type="int", default=0o644,
                help="permission bits of stored files (e.g. 0o640 in gantry.toml)"),
    ]
