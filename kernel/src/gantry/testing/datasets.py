"""Synthetic DICOM datasets with planted patient data.

Every identifying attribute holds a recognisable value from ``PLANTED_PHI`` so that a test can
assert that none of them survives (in output files, logs or reports).
"""

from __future__ import annotations

import os
from typing import Any

# Values chosen to be unmistakable in a grep and valid for their VR.
PLANTED_PHI: dict[str, str] = {
    "PatientName": "PLANTED^PATIENT^NAME",
    "PatientID": "PHI-PID-000417",
    "PatientBirthDate": "19610704",
    "PatientAddress": "17 Planted Lane, Phiville",
    "OtherPatientIDs": "PHI-OTHER-99",
    "AccessionNumber": "PHIACC0001",
    "ReferringPhysicianName": "PLANTED^REFERRER",
    "InstitutionName": "Planted General Hospital",
    "StationName": "PHI-STATION-7",
}

UID_ROOT = "1.2.826.0.1.3680043.10.1432."  # a test root; every UID made here is under it

_PHOTOMETRIC_SAMPLES = {"MONOCHROME1": 1, "MONOCHROME2": 1, "RGB": 3, "YBR_FULL": 3}


def make_uid(*parts: int | str) -> str:
    """A deterministic, valid UID under the test root."""
    suffix = ".".join(str(int(part)) if str(part).isdigit() else str(_stable_number(str(part))) for part in parts)
    return (UID_ROOT + suffix)[:64]


def _stable_number(text: str) -> int:
    import hashlib

    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:6], "big")


def make_dataset(
    *,
    modality: str = "CT",
    rows: int = 16,
    columns: int = 16,
    bits_allocated: int = 16,
    bits_stored: int | None = None,
    signed: bool = False,
    photometric: str = "MONOCHROME2",
    frames: int = 1,
    study: int = 1,
    series: int = 1,
    instance: int = 1,
    patient: int = 1,
    phi: bool = True,
    seed: int | None = None,
) -> Any:
    """A complete, valid image dataset with file meta, pixel data and planted PHI.

    ``study``, ``series``, ``instance`` and ``patient`` numbers make deterministic UIDs, so that
    several calls build a coherent study. Pixel values are a reproducible random pattern.
    """
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, MRImageStorage, SecondaryCaptureImageStorage

    sop_class = {"CT": CTImageStorage, "MR": MRImageStorage}.get(modality, SecondaryCaptureImageStorage)
    samples = _PHOTOMETRIC_SAMPLES.get(photometric)
    if samples is None:
        raise ValueError(f"photometric must be one of {', '.join(_PHOTOMETRIC_SAMPLES)}, got {photometric!r}")
    bits_stored = bits_stored or bits_allocated
    ds = Dataset()
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = make_uid(patient, study, series, instance, 9)
    ds.StudyInstanceUID = make_uid(patient, study)
    ds.SeriesInstanceUID = make_uid(patient, study, series)
    ds.FrameOfReferenceUID = make_uid(patient, study, 7)
    ds.Modality = modality
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20240315"
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "101530.250"
    ds.StudyID = f"S{study}"
    ds.SeriesNumber = series
    ds.InstanceNumber = instance
    ds.StudyDescription = "Synthetic study"
    ds.SeriesDescription = f"Synthetic {modality} series {series}"
    ds.Manufacturer = "Gantry Synthetic"
    ds.PatientSex = "O"
    ds.PatientAge = "062Y"
    for keyword, value in PLANTED_PHI.items():
        setattr(ds, keyword, value if phi else "")
    if phi and patient != 1:
        ds.PatientID = f"{PLANTED_PHI['PatientID']}-{patient}"
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = photometric
    if samples > 1:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits_allocated, bits_stored, bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if frames > 1:
        ds.NumberOfFrames = frames
    rng = np.random.default_rng(seed if seed is not None else _stable_number(ds.SOPInstanceUID))
    low, high = (-(2 ** (bits_stored - 1)), 2 ** (bits_stored - 1)) if signed else (0, 2**bits_stored)
    dtype = {8: np.int8 if signed else np.uint8, 16: np.int16 if signed else np.uint16,
             32: np.int32 if signed else np.uint32}[bits_allocated]
    shape = (frames, rows, columns, samples) if samples > 1 else (frames, rows, columns)
    pixels = rng.integers(low, high, size=shape, dtype=np.int64).astype(dtype)
    ds.PixelData = pixels.tobytes()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = UID_ROOT + "0.1"
    meta.ImplementationVersionName = "GANTRY_TEST"
    ds.file_meta = meta
    return ds


def write_dataset(
    ds: Any,
    path: str | os.PathLike[str],
    *,
    preamble: bool = True,
    transfer_syntax: str | None = None,
) -> str:
    """Write ``ds`` as a Part 10 file (or without the preamble and File Meta when asked).

    ``transfer_syntax`` may be Implicit/Explicit VR Little Endian, Explicit VR Big Endian or
    Deflated Explicit VR Little Endian; pydicom re-encodes the dataset accordingly.
    """
    from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian, ImplicitVRLittleEndian

    import copy

    path = os.fspath(path)
    ds = copy.deepcopy(ds)  # the caller's dataset stays as it was (syntax, byte order, meta)
    if transfer_syntax is not None:
        ds.file_meta.TransferSyntaxUID = transfer_syntax
    syntax = ds.file_meta.TransferSyntaxUID
    if syntax == ExplicitVRBigEndian and ds.get("BitsAllocated", 8) > 8 and "PixelData" in ds:
        import numpy as np

        dtype = np.dtype(f"<{'i' if ds.PixelRepresentation else 'u'}{ds.BitsAllocated // 8}")
        ds.PixelData = np.frombuffer(ds.PixelData, dtype=dtype).byteswap().tobytes()
    if preamble:
        ds.save_as(path, enforce_file_format=True)
    else:
        # A "raw" dataset: no preamble, no DICM prefix and no File Meta group, as old modalities write.
        from pydicom.dataset import FileMetaDataset

        ds.preamble, ds.file_meta = None, FileMetaDataset()  # empty meta is not written
        implicit = syntax == ImplicitVRLittleEndian
        little = syntax != ExplicitVRBigEndian
        if syntax == DeflatedExplicitVRLittleEndian:
            raise ValueError("a deflated dataset needs its File Meta Information: write it with preamble=True")
        ds.save_as(path, implicit_vr=implicit, little_endian=little, enforce_file_format=False)
    return path
