"""The Encrypted Attributes Data Set of PS3.15 E.1.2 / PS3.3 C.12.1.1.4.1, both ways.

    item = encrypted_attributes_item(originals, recipient, character_set)   # one item of (0400,0500)
    originals = decrypt_original_attributes(dataset, certificate, private_key)  # the item of (0400,0550)

The data set that gets encrypted holds one attribute, Modified Attributes Sequence (0400,0550),
with one item holding the original elements; it is encoded in Explicit VR Little Endian (the
transfer syntax the standard names for it, and the one written in (0400,0510)) and wrapped in a
CMS EnvelopedData stored in Encrypted Content (0400,0520).
"""

from __future__ import annotations

from collections.abc import Iterable
from io import BytesIO

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

from gantry_pseudonym.envelope import decrypt_with, encrypt_for
from gantry_pseudonym.errors import PseudonymError

ENCRYPTED_ATTRIBUTES = 0x04000500
MODIFIED_ATTRIBUTES = 0x04000550
SPECIFIC_CHARACTER_SET = 0x00080005


def encrypted_attributes_item(originals: Iterable[DataElement], recipient: x509.Certificate,
                              character_set: DataElement | None = None) -> Dataset:
    """One item of Encrypted Attributes Sequence holding ``originals`` for ``recipient``."""
    modified = Dataset()
    if character_set is not None:
        # Decoded text must be encoded back in the character set it was read in.
        modified.add(DataElement(SPECIFIC_CHARACTER_SET, "CS", character_set.value))
    for element in originals:
        modified.add(element)
    plain = Dataset()
    plain.add(DataElement(MODIFIED_ATTRIBUTES, "SQ", Sequence([modified])))
    item = Dataset()
    item.EncryptedContentTransferSyntaxUID = ExplicitVRLittleEndian
    item.EncryptedContent = encrypt_for(recipient, _explicit_little(plain))
    return item


def decrypt_original_attributes(dataset: Dataset, certificate: x509.Certificate,
                                private_key: rsa.RSAPrivateKey) -> Dataset:
    """The original elements from ``dataset``'s Encrypted Attributes Sequence (the first item
    this key opens), or a PseudonymError saying why there are none."""
    if ENCRYPTED_ATTRIBUTES not in dataset or not dataset[ENCRYPTED_ATTRIBUTES].value:
        raise PseudonymError("no Encrypted Attributes Sequence (0400,0500): nothing to recover")
    refusals = []
    for number, item in enumerate(dataset[ENCRYPTED_ATTRIBUTES].value):
        syntax = str(item.get("EncryptedContentTransferSyntaxUID", ""))
        if syntax != ExplicitVRLittleEndian:
            refusals.append(f"item {number}: Encrypted Content Transfer Syntax {syntax or 'missing'} "
                            "is not Explicit VR Little Endian")
            continue
        try:
            plain = decrypt_with(bytes(item.get("EncryptedContent", b"")), certificate, private_key)
        except PseudonymError as err:
            refusals.append(f"item {number}: {err}")
            continue
        return _modified_attributes(plain, number)
    raise PseudonymError("; ".join(refusals))


def _modified_attributes(plain: bytes, number: int) -> Dataset:
    try:
        decrypted = read_dataset(BytesIO(plain), is_implicit_VR=False, is_little_endian=True)
        items = decrypted[MODIFIED_ATTRIBUTES].value
    except Exception as err:
        raise PseudonymError(f"item {number}: the decrypted content is not an Encrypted Attributes Data "
                             f"Set ({type(err).__name__})") from None
    if len(items) != 1:
        raise PseudonymError(f"item {number}: Modified Attributes Sequence holds {len(items)} items, not one")
    return items[0]


def _explicit_little(dataset: Dataset) -> bytes:
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, False
    write_dataset(buffer, dataset)
    return buffer.getvalue()
