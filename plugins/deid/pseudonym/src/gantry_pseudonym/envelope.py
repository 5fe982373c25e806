"""CMS EnvelopedData (RFC 5652), as PS3.15 E.1.2 requires for Encrypted Content.

The content is encrypted with a fresh AES-256-CBC key, and that key with the recipient's RSA
public key (PKCS #1 v1.5 key transport, identified by the certificate's issuer and serial
number): what OpenSSL's CMS, and so gdcmanon, reads and writes.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.serialization import pkcs7

from gantry_pseudonym.errors import PseudonymError


def encrypt_for(recipient: x509.Certificate, content: bytes) -> bytes:
    """The DER of an EnvelopedData holding ``content`` for ``recipient`` only."""
    builder = (pkcs7.PKCS7EnvelopeBuilder().set_data(content).add_recipient(recipient)
               .set_content_encryption_algorithm(algorithms.AES256))
    # Binary: the content is DICOM, not text; without it the builder would add a MIME header
    # and turn line feeds into CR LF.
    return builder.encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])


def decrypt_with(envelope: bytes, certificate: x509.Certificate, private_key: rsa.RSAPrivateKey) -> bytes:
    """The content of ``envelope``, or a PseudonymError saying why it cannot be had."""
    if certificate.public_key().public_numbers() != private_key.public_key().public_numbers():
        raise PseudonymError("the certificate does not belong to the private key")
    try:
        return pkcs7.pkcs7_decrypt_der(der_value(envelope), certificate, private_key, [])
    except ValueError as err:
        if "recipient" in str(err).lower():
            raise PseudonymError("encrypted for another key: this key's certificate is not a recipient of "
                                 "the envelope") from None
        raise PseudonymError("the Encrypted Content is not a CMS EnvelopedData this key can open "
                             f"({type(err).__name__})") from None
    except Exception as err:  # an unsupported algorithm, a damaged envelope
        raise PseudonymError(f"cannot decrypt the Encrypted Content ({type(err).__name__})") from None


def der_value(data: bytes) -> bytes:
    """The DER value at the start of ``data`` without what follows it.

    OB values have even length, so an odd-length envelope is stored with one padding byte
    (PS3.5 7.1.1), which a strict DER parser refuses as extra data.
    """
    if len(data) < 2:
        raise PseudonymError("the Encrypted Content is too short to be a CMS EnvelopedData")
    first = data[1]
    if first < 0x80:
        header, length = 2, first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or len(data) < 2 + count:
            raise PseudonymError("the Encrypted Content does not start with a definite-length DER value")
        header, length = 2 + count, int.from_bytes(data[2:2 + count], "big")
    if header + length > len(data):
        raise PseudonymError("the Encrypted Content is cut short")
    return data[:header + length]
