"""A sample folder that looks like what sites really have: good studies, clutter, damage.

``python -m gantry.testing.samples OUT`` writes it (``make run`` uses it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gantry.testing.datasets import make_dataset, write_dataset


def write_sample_folder(folder: str | os.PathLike[str]) -> dict[str, list[str]]:
    """Write the sample files into ``folder``; return the paths grouped by what they are."""
    from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian, ImplicitVRLittleEndian

    root = Path(folder)
    made: dict[str, list[str]] = {"dicom": [], "not_dicom": [], "damaged": []}
    ct = root / "patient1" / "ct"
    for number in range(1, 6):
        made["dicom"].append(write_dataset(make_dataset(modality="CT", instance=number, rows=64, columns=64),
                                           _ready(ct / f"ct{number:03d}.dcm")))
    mr = root / "patient1" / "mr"
    made["dicom"].append(write_dataset(make_dataset(modality="MR", series=2, frames=4, rows=32, columns=32),
                                       _ready(mr / "mr-multiframe.dcm"), transfer_syntax=ImplicitVRLittleEndian))
    other = root / "patient2"
    made["dicom"].append(write_dataset(make_dataset(modality="OT", patient=2, photometric="RGB", bits_allocated=8),
                                       _ready(other / "secondary-capture.dcm")))
    made["dicom"].append(write_dataset(make_dataset(modality="CT", patient=2, study=2, instance=1),
                                       _ready(other / "deflated.dcm"), transfer_syntax=DeflatedExplicitVRLittleEndian))
    made["dicom"].append(write_dataset(make_dataset(modality="CT", patient=2, study=2, instance=2),
                                       _ready(other / "no-preamble.dcm"), preamble=False,
                                       transfer_syntax=ImplicitVRLittleEndian))
    made["dicom"].append(write_dataset(make_dataset(modality="CT", patient=2, study=2, instance=3),
                                       _ready(other / "big-endian.dcm"), transfer_syntax=ExplicitVRBigEndian))
    clutter = root / "clutter"
    for name, content in (("DICOMDIR.txt", b"not a DICOMDIR\n"), ("notes.txt", b"scan protocol notes\n"),
                          (".DS_Store", b"\x00\x00\x00\x01Bud1"), ("empty.dcm", b"")):
        path = _ready(clutter / name)
        path.write_bytes(content)
        made["not_dicom"].append(str(path))
    whole = Path(made["dicom"][0]).read_bytes()
    truncated = _ready(root / "damaged" / "truncated.dcm")
    truncated.write_bytes(whole[: len(whole) // 2])
    made["damaged"].append(str(truncated))
    return made


def _ready(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m gantry.testing.samples OUT_FOLDER", file=sys.stderr)
        return 2
    made = write_sample_folder(args[0])
    counts = ", ".join(f"{len(paths)} {kind.replace('_', '-')}" for kind, paths in made.items())
    print(f"wrote sample folder {args[0]}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
