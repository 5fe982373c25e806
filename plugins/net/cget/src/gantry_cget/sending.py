"""What a retrieve SCP (C-GET, C-MOVE) sends for one index row on an association: the instance in
its stored syntax when a context took that syntax, otherwise a *lossless* transcode to one the
association took for its SOP class (Explicit VR LE first, then Implicit VR LE, then any other
lossless one), through ``gantry_transcode`` and the codec plugins.

pynetdicom picks the context of a C-STORE from the dataset's File Meta Transfer Syntax: an exact
match, or for a native little-endian dataset any native little-endian context (it re-encodes
between Explicit and Implicit VR itself). A compressed instance needs a context of its own syntax.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import Any

from pydicom import Dataset, dcmread

from gantry.log import Phi, get_logger
from gantry.uids import DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN

from gantry_cstore.scu import syntax_name, transcode_targets

log = get_logger(__name__)

#: Syntaxes pynetdicom converts between when sending (PS3.5 native little endian).
CONVERTIBLE = frozenset({EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN})


def accepted_storage(association: Any) -> dict[str, list[str]]:
    """SOP class -> the transfer syntaxes of the contexts on which we may send C-STOREs."""
    accepted: dict[str, list[str]] = {}
    for context in association.accepted_contexts:
        if context.as_scu:
            accepted.setdefault(str(context.abstract_syntax), []).append(str(context.transfer_syntax[0]))
    return accepted


def goes_as_stored(syntax: str, accepted: list[str]) -> bool:
    return syntax in accepted or (syntax in CONVERTIBLE and any(uid in CONVERTIBLE for uid in accepted))


def dataset_to_send(kernel: Any, row: Mapping[str, Any], accepted: Mapping[str, list[str]],
                    what: str = "retrieve") -> Dataset:
    """The dataset for a C-STORE sub-operation of ``row`` on an association that accepted
    ``accepted`` (see :func:`accepted_storage`). When nothing fits (no context for its class,
    a failed transcode), the dataset as stored: pynetdicom then fails that sub-operation."""
    dataset = instance_to_send(row, what)
    if "SOPClassUID" not in dataset:  # unreadable: the placeholder fails the sub-operation
        return dataset
    syntax = str(dataset.file_meta.TransferSyntaxUID)
    syntaxes = accepted.get(str(dataset.SOPClassUID), [])
    if not syntaxes or goes_as_stored(syntax, syntaxes):
        return dataset
    return _transcoded(kernel, row, dataset, transcode_targets(syntaxes), what) or dataset


def _transcoded(kernel: Any, row: Mapping[str, Any], dataset: Dataset, targets: list[str],
                what: str) -> Dataset | None:
    from gantry_transcode.transcode import transcode_file

    reasons = []
    with tempfile.TemporaryDirectory(prefix=f"gantry-{what}-") as scratch:
        for target in targets:
            destination = os.path.join(scratch, f"{len(reasons)}.dcm")
            outcome = transcode_file(kernel, row["location"], destination, target)
            if outcome.ok and not outcome.lossy:
                return dcmread(destination)
            reasons.append(f"{syntax_name(target)}: {outcome.reason or 'lossy'}")
    log.warning(f"{what}.not_transcoded", syntax=syntax_name(str(dataset.file_meta.TransferSyntaxUID)),
                targets=[syntax_name(uid) for uid in targets], reasons=Phi("; ".join(reasons)))
    return None


def instance_to_send(row: Mapping[str, Any], what: str = "retrieve") -> Dataset:
    """The dataset of an index row for a C-STORE sub-operation, or a placeholder naming its UID
    when the file cannot be read (pynetdicom then counts that sub-operation as failed)."""
    try:
        return dcmread(row["location"])
    except Exception as err:
        # pynetdicom counts a sub-operation whose send raises as failed and lists the UID it
        # finds: a dataset with only that UID cannot be sent, so it fails with it named.
        log.warning(f"{what}.unreadable", location=Phi(row.get("location")),
                    error=Phi(f"{type(err).__name__}: {err}"))
        placeholder = Dataset()
        placeholder.SOPInstanceUID = row.get("SOPInstanceUID", "")
        return placeholder
