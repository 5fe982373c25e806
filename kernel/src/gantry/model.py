"""The object model: Patient -> Study -> Series -> Instance.

Plain attrs records with the identifying attributes of each level. An Instance knows where its
data lives and reads it only when asked: ``instance.dataset()`` parses the header through the
kernel's readers, ``instance.pixels()`` decodes pixel data on demand. Storage backends build
these objects from their index; nothing here touches a database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from gantry.kernel import Kernel


@attrs.define(eq=False)
class Instance:
    sop_instance_uid: str
    sop_class_uid: str = ""
    series_instance_uid: str = ""
    instance_number: int | None = None
    transfer_syntax_uid: str = ""
    location: str = ""
    """Where the data is (a file path today; a storage URL later)."""
    size: int | None = None
    rows: int | None = None
    columns: int | None = None
    number_of_frames: int | None = None
    kernel: Kernel | None = attrs.field(default=None, repr=False)
    _header: Any = attrs.field(default=None, init=False, repr=False)

    def dataset(self, *, stop_before_pixels: bool = False) -> Any:
        """Read the instance (through the kernel's readers when it has one)."""
        if self.kernel is not None:
            return self.kernel.read(self.location, stop_before_pixels=stop_before_pixels)
        import pydicom

        return pydicom.dcmread(self.location, stop_before_pixels=stop_before_pixels)

    def header(self) -> Any:
        """The dataset without pixel data, read once and kept."""
        if self._header is None:
            self._header = self.dataset(stop_before_pixels=True)
        return self._header

    def pixels(self) -> Any:
        """Decode the pixel data now (a numpy array); nothing is decoded before this call."""
        return self.dataset().pixel_array

    def frames(self) -> Any:
        """Decoded frames one at a time, read from the file as they are asked for (needs a
        kernel): memory stays at one frame however large the instance."""
        if self.kernel is None:
            raise ValueError("Instance.frames() needs the instance to carry a kernel")
        from gantry.frames import open_pixels

        with open_pixels(self.kernel, self.location) as source:
            yield from source.arrays()


@attrs.define(eq=False)
class Series:
    series_instance_uid: str
    modality: str = ""
    series_number: int | None = None
    series_description: str = ""
    series_date: str = ""
    body_part_examined: str = ""
    number_of_instances: int | None = None
    study_instance_uid: str = ""
    _load_instances: Callable[[], list[Instance]] | None = attrs.field(default=None, repr=False)
    _instances: list[Instance] | None = attrs.field(default=None, repr=False)

    @property
    def instances(self) -> list[Instance]:
        if self._instances is None:
            self._instances = self._load_instances() if self._load_instances else []
        return self._instances


@attrs.define(eq=False)
class Study:
    study_instance_uid: str
    study_date: str = ""
    study_time: str = ""
    accession_number: str = ""
    study_description: str = ""
    study_id: str = ""
    referring_physician_name: str = ""
    modalities_in_study: str = ""
    number_of_series: int | None = None
    number_of_instances: int | None = None
    patient_id: str = ""
    _load_series: Callable[[], list[Series]] | None = attrs.field(default=None, repr=False)
    _series: list[Series] | None = attrs.field(default=None, repr=False)

    @property
    def series(self) -> list[Series]:
        if self._series is None:
            self._series = self._load_series() if self._load_series else []
        return self._series

    def __repr__(self) -> str:  # accession numbers, names and IDs stay out of reprs too
        return (f"Study({self.study_instance_uid!r}, {self.modalities_in_study or '?'}, "
                f"{self.number_of_series if self.number_of_series is not None else '?'} series)")


@attrs.define(eq=False)
class Patient:
    patient_id: str
    patient_name: str = ""
    patient_birth_date: str = ""
    patient_sex: str = ""
    issuer_of_patient_id: str = ""
    number_of_studies: int | None = None
    _load_studies: Callable[[], list[Study]] | None = attrs.field(default=None, repr=False)
    _studies: list[Study] | None = attrs.field(default=None, repr=False)

    @property
    def studies(self) -> list[Study]:
        if self._studies is None:
            self._studies = self._load_studies() if self._load_studies else []
        return self._studies

    def __repr__(self) -> str:  # patient identifiers stay out of reprs that end up in logs
        return f"Patient(<phi>, {len(self._studies) if self._studies is not None else '?'} studies)"
