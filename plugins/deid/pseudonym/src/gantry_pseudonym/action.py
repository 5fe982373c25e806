"""The instance step ``encrypt-originals``: ``apply(dataset, None, context)``.

Runs after the attribute actions, on the de-identified working copy: the originals the engine
kept in ``context.originals`` are encrypted for the site's certificate and appended as one item
of Encrypted Attributes Sequence (0400,0500) (appended: an item someone else put there for
another recipient stays). An instance where nothing was replaced or removed gets no item.
The certificate is read once per process and path.
"""

from __future__ import annotations

import functools
from typing import Any

from cryptography import x509
from pydicom.dataelem import DataElement
from pydicom.sequence import Sequence

from gantry.deid import DeidContext

from gantry_pseudonym.attributes import ENCRYPTED_ATTRIBUTES, SPECIFIC_CHARACTER_SET, encrypted_attributes_item
from gantry_pseudonym.errors import PseudonymError
from gantry_pseudonym.keys import KeyPaths, recipient_certificate

SETTINGS_SECTION = "pseudonym"


def apply(dataset: Any, element: Any, context: DeidContext) -> None:
    if element is not None:
        raise PseudonymError("encrypt-originals is an instance step: it takes no element")
    if not context.originals:
        return
    recipient = _recipient(KeyPaths.from_settings(context.settings.get(SETTINGS_SECTION)))
    item = encrypted_attributes_item(context.originals, recipient, dataset.get(SPECIFIC_CHARACTER_SET))
    if ENCRYPTED_ATTRIBUTES in dataset:
        dataset[ENCRYPTED_ATTRIBUTES].value.append(item)
    else:
        dataset.add(DataElement(ENCRYPTED_ATTRIBUTES, "SQ", Sequence([item])))
    context.notes.append("original values encrypted into Encrypted Attributes Sequence (0400,0500)")


@functools.lru_cache(maxsize=8)
def _recipient(paths: KeyPaths) -> x509.Certificate:
    return recipient_certificate(paths)
