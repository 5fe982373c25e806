"""Re-identification (PS3.15 E.1.2): the original attributes put back into a copy.

    restored = recover_dataset(dataset, certificate, private_key)

The copy gets every element of the decrypted Modified Attributes Sequence item in place of the
de-identified one (elements that were removed come back, sequences come back whole); the
Encrypted Attributes Sequence is dropped (the copy holds the identity in the clear, and a stale
envelope would only invite confusion); Patient Identity Removed becomes NO, and Longitudinal
Temporal Information Modified, which described the de-identified dates, is removed. The
de-identification method attributes stay as history (PS3.3 C.12.1.1.4 allows them with NO).
The File Meta names the restored SOP Class and Instance UIDs.
"""

from __future__ import annotations

import copy

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from pydicom.dataset import Dataset

from gantry_pseudonym.attributes import ENCRYPTED_ATTRIBUTES, decrypt_original_attributes

PATIENT_IDENTITY_REMOVED = 0x00120062
LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED = 0x00280303


def recover_dataset(dataset: Dataset, certificate: x509.Certificate, private_key: rsa.RSAPrivateKey) -> Dataset:
    """A copy of ``dataset`` with its original attributes back (``dataset`` is left as it was)."""
    originals = decrypt_original_attributes(dataset, certificate, private_key)
    restored = copy.deepcopy(dataset)
    del restored[ENCRYPTED_ATTRIBUTES]
    for element in originals:
        restored[element.tag] = element
    if LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED not in originals:
        restored.pop(LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED, None)
    if PATIENT_IDENTITY_REMOVED not in originals:
        restored.PatientIdentityRemoved = "NO"
    meta = getattr(restored, "file_meta", None)
    if meta is not None:
        if "SOPClassUID" in restored:
            meta.MediaStorageSOPClassUID = restored.SOPClassUID
        if "SOPInstanceUID" in restored:
            meta.MediaStorageSOPInstanceUID = restored.SOPInstanceUID
    return restored
