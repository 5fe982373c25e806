"""Throw-away certificates for tests of TLS peers (ours and third parties'): a CA, a server and a
client certificate it signed for 127.0.0.1 (CN and SAN), and a server certificate from a CA
nobody trusts, as PEM files. Needs ``cryptography``.

    pki = make_pki(tmp_path / "pki")
    server_ssl_context({"ca_file": str(pki.ca), "cert_file": str(pki.server_cert), "key_file": str(pki.server_key)})
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path
from typing import Any

import attrs

HOST = "127.0.0.1"


@attrs.frozen
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    stranger_cert: Path
    """A server certificate for 127.0.0.1 signed by a CA nobody here trusts."""
    stranger_key: Path

    def server_settings(self, **more: Any) -> dict[str, Any]:
        """A ``[tls]`` section for a listener presenting the server certificate."""
        return {"ca_file": str(self.ca), "cert_file": str(self.server_cert), "key_file": str(self.server_key), **more}

    def client_settings(self, **more: Any) -> dict[str, Any]:
        """A ``[tls]`` section for a client trusting the CA and presenting the client certificate."""
        return {"ca_file": str(self.ca), "cert_file": str(self.client_cert), "key_file": str(self.client_key), **more}


def make_pki(folder: str | Path) -> Pki:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _authority("Gantry test CA")
    other_key, other_cert = _authority("Somebody else's CA")
    files: dict[str, Path] = {"ca": _write(folder / "ca.pem", ca_cert)}
    for name, (issuer_key, issuer_cert) in {"server": (ca_key, ca_cert), "client": (ca_key, ca_cert),
                                            "stranger": (other_key, other_cert)}.items():
        key, cert = _leaf(issuer_key, issuer_cert)
        files[f"{name}_cert"] = _write(folder / f"{name}.pem", cert)
        files[f"{name}_key"] = _write(folder / f"{name}.key", key)
    return Pki(**files)


def _name(common_name: str) -> Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: str, issuer: Any, public_key: Any) -> Any:
    from cryptography import x509

    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1)))


def _rsa_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    # RSA rather than EC: dcmtk's default BCP 195 profile offers ECDHE_RSA suites for TLS 1.2.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _authority(common_name: str) -> tuple[Any, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    key = _rsa_key()
    cert = (_builder(common_name, _name(common_name), key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def _leaf(issuer_key: Any, issuer_cert: Any) -> tuple[Any, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID

    key = _rsa_key()
    cert = (_builder(HOST, issuer_cert.subject, key.public_key())
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(issuer_key, hashes.SHA256()))
    return key, cert


def _write(path: Path, item: Any) -> Path:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    if isinstance(item, x509.Certificate):
        path.write_bytes(item.public_bytes(serialization.Encoding.PEM))
    else:
        path.write_bytes(item.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    return path
