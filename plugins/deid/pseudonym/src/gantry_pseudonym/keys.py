"""The site key: an RSA private key (PEM) and a self-signed certificate naming its public half.

Encrypting needs only the certificate (the recipient of the CMS envelope); recovering needs the
private key, so a site can keep the key off the machine that de-identifies. Both are made on
first use when neither exists (RSA 3072, the size NIST SP 800-57 pairs with AES-128 strength and
beyond 2030), written with mode 0600 through a temporary file and a hard link, so two worker
processes racing to make them end up sharing whichever was linked first. Paths are logged,
contents never.

Where they are: the ``[pseudonym]`` settings ``key_file`` and ``cert_file``; without
``key_file``, ``$GANTRY_PSEUDONYM_KEY``, else ``gantry-pseudonym.key`` in the working folder;
without ``cert_file``, the key's path with the suffix ``.crt``.
"""

from __future__ import annotations

import datetime
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from gantry.log import get_logger

from gantry_pseudonym.errors import PseudonymError

log = get_logger(__name__)

KEY_ENV = "GANTRY_PSEUDONYM_KEY"
DEFAULT_KEY_FILE = "gantry-pseudonym.key"
KEY_BITS = 3072
CERTIFICATE_YEARS = 30  # CMS decryption ignores validity; the date only has to be well-formed
RECIPIENT_NAME = "Gantry pseudonym recipient"


@attrs.frozen
class KeyPaths:
    key: Path
    certificate: Path

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None = None) -> KeyPaths:
        settings = settings or {}
        key = Path(settings.get("key_file") or os.environ.get(KEY_ENV) or DEFAULT_KEY_FILE)
        return cls(key=key, certificate=certificate_path_for(key, settings.get("cert_file") or None))


def certificate_path_for(key: Path, configured: str | os.PathLike[str] | None = None) -> Path:
    return Path(configured) if configured else key.with_suffix(".crt")


def recipient_certificate(paths: KeyPaths) -> x509.Certificate:
    """The certificate to encrypt for, made (with the key) on first use."""
    if not paths.certificate.exists():
        private_key = _load_or_make_private_key(paths.key)
        _link_new_file(paths.certificate, _self_signed(private_key).public_bytes(serialization.Encoding.PEM))
        log.warning("pseudonym.certificate_created", path=str(paths.certificate), key_path=str(paths.key))
    return load_certificate(paths.certificate)


def load_certificate(path: Path) -> x509.Certificate:
    try:
        certificate = x509.load_pem_x509_certificate(path.read_bytes())
    except OSError as err:
        raise PseudonymError(f"cannot read the certificate {str(path)!r}: {err.strerror or err}") from None
    except ValueError:
        raise PseudonymError(f"{str(path)!r} is not a PEM certificate") from None
    if not isinstance(certificate.public_key(), rsa.RSAPublicKey):
        raise PseudonymError(f"the certificate {str(path)!r} does not hold an RSA key (CMS key transport needs one)")
    return certificate


def load_private_key(path: Path) -> rsa.RSAPrivateKey:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise PseudonymError(f"cannot read the private key {str(path)!r}: {err.strerror or err}") from None
    try:
        private_key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        # The parser's own message is withheld: the file is a secret.
        raise PseudonymError(f"{str(path)!r} is not an unencrypted PEM private key") from None
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise PseudonymError(f"the private key {str(path)!r} is not an RSA key")
    return private_key


def make_site_key(paths: KeyPaths, *, bits: int = KEY_BITS) -> x509.Certificate:
    """Make the key and its certificate where ``paths`` says (each only if absent)."""
    private_key = _load_or_make_private_key(paths.key, bits)
    if not paths.certificate.exists():
        _link_new_file(paths.certificate, _self_signed(private_key).public_bytes(serialization.Encoding.PEM))
    return load_certificate(paths.certificate)


def _load_or_make_private_key(path: Path, bits: int = KEY_BITS) -> rsa.RSAPrivateKey:
    if path.exists():
        return load_private_key(path)
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    if _link_new_file(path, pem):
        log.warning("pseudonym.key_created", path=str(path), bits=bits)
        return private_key
    return load_private_key(path)  # another process made it first: use that one


def _self_signed(private_key: rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, RECIPIENT_NAME)])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(private_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365 * CERTIFICATE_YEARS))
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=True, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(private_key, hashes.SHA256()))


def _link_new_file(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` (0600) unless it exists; False when another process won."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)  # never replaces a file another process made meanwhile
    except FileExistsError:
        return False
    finally:
        os.unlink(temporary)
    return True
