"""Build the :class:`gantry.deid.DeidContext` of one instance from its dataset."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gantry.deid import DeidContext

from gantry_deid.elements import element_at, text_values

SOP_INSTANCE_UID = 0x00080018
PATIENT_ID = 0x00100020
ISSUER_OF_PATIENT_ID = 0x00100021


def _text(dataset: Any, tag: int) -> str:
    if tag not in dataset._dict:
        return ""
    values = text_values(element_at(dataset, tag))
    return values[0].strip() if values else ""


def make_context(
    dataset: Any,
    *,
    secret: bytes,
    plan: Any = None,
    options: frozenset[str] | None = None,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    backend: Any = None,
) -> DeidContext:
    """A fresh context for ``dataset``: its original SOP Instance UID, its patient key
    (``"ID^ISSUER"``), the site ``secret``, and the plan's options (or ``options``).

    The dataset is read without being changed. Use it as (part of) the ``context_factory`` of
    :func:`gantry_deid.files.deidentify_file`.
    """
    if not isinstance(secret, bytes | bytearray) or not secret:
        raise TypeError("secret must be non-empty bytes (the site secret for keyed operations)")
    in_force = options if options is not None else (plan.options if plan is not None else frozenset())
    patient_id, issuer = _text(dataset, PATIENT_ID), _text(dataset, ISSUER_OF_PATIENT_ID)
    return DeidContext(
        sop_instance_uid=_text(dataset, SOP_INSTANCE_UID) or "(no SOP Instance UID)",
        patient_key=f"{patient_id}^{issuer}",  # the contract's "ID^ISSUER", issuer possibly empty
        secret=bytes(secret),
        options=frozenset(in_force),
        settings=dict(settings or {}),
        backend=backend,
    )
