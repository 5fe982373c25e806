"""How many datasets per second ``audit_dataset`` audits (the runner calls it on every output).

    .venv/bin/python plugins/deid/phi-audit/benchmarks/bench_phi_audit.py [--seconds 3]

Input: pydicom's ``CT_small.dcm``, parsed once, then (1) blanked like a Basic Profile output
(``gantry_phi_audit.testing.simulated_basic_output``: no private tags, dummies, 2.25 UIDs,
marking), the case the target of 3,000 datasets/s is for; (2) only its names, IDs and dates
blanked, its 170 private elements left in (each one a finding); (3) the file as it is.
Every dataset is a fresh deep copy, audited once, so no cache inside pydicom or the audit
carries over from one audit to the next; copying is outside the timed region.

The peer in the same run is the floor any header audit pays: pydicom's own ``iterall()``
visiting every element of the same datasets and doing nothing with them.
"""

from __future__ import annotations

import argparse
import copy
import time
from typing import Any

import pydicom
from pydicom.data import get_testdata_file

from gantry_phi_audit import audit_dataset
from gantry_phi_audit.testing import simulated_basic_output

BATCH = 200


def names_ids_and_dates_blanked(dataset: Any) -> Any:
    blanked = copy.deepcopy(dataset)
    for element in blanked.iterall():
        if element.VR == "PN":
            element.value = "ANONYMOUS"
        elif element.VR in ("DA", "DT"):
            element.value = "19000101"
        elif element.keyword in ("PatientID", "AccessionNumber", "StudyID", "InstitutionName",
                                 "StationName"):
            element.value = ""
    return blanked


def visit_only(dataset: Any) -> list[Any]:
    for _ in dataset.iterall():
        pass
    return []


def rate(dataset: Any, seconds: float, work: Any = audit_dataset) -> tuple[float, int]:
    audited, elapsed, findings = 0, 0.0, 0
    while elapsed < seconds:
        batch = [copy.deepcopy(dataset) for _ in range(BATCH)]
        for copied in batch:  # pydicom converts raw elements on first access: do it untimed
            for _ in copied.iterall():
                pass
        start = time.perf_counter()
        for copied in batch:
            findings = len(work(copied))
        elapsed += time.perf_counter() - start
        audited += BATCH
    return audited / elapsed, findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    seconds = parser.parse_args().seconds
    original = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    cases = {
        "Basic Profile output (simulated)": simulated_basic_output(original),
        "names, IDs, dates blanked; private tags kept": names_ids_and_dates_blanked(original),
        "original CT_small.dcm": original,
    }
    print(f"pydicom {pydicom.__version__}, {seconds:g} s per case")
    for name, dataset in cases.items():
        per_second, findings = rate(dataset, seconds)
        floor, _ = rate(dataset, seconds, visit_only)
        print(f"{name:46s} audit {per_second:7,.0f}/s, pydicom iterall alone {floor:7,.0f}/s "
              f"({len(dataset)} top-level elements, {findings} findings each)")


if __name__ == "__main__":
    main()
