"""Key pairs' cryptography: fingerprints of imported keys and generated key pairs.

The `cryptography` library parses and generates; it is imported on first use so the
services that never handle keys do not load it.
"""

from __future__ import annotations

import base64
import datetime
import hashlib

from nova_lite import exception

SSH = "ssh"
X509 = "x509"
KEY_BITS = 2048


def _colons(hexdigest: str) -> str:
    return ":".join(hexdigest[i:i + 2] for i in range(0, len(hexdigest), 2))


def ssh_fingerprint(public_key: str) -> str:
    """MD5 of the key's wire blob, colon separated (what ``ssh-keygen -E md5 -l`` prints)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_ssh_public_key(public_key.strip().encode())
        blob = key.public_bytes(serialization.Encoding.OpenSSH,
                                serialization.PublicFormat.OpenSSH).split(b" ")[1]
    except (ValueError, TypeError, IndexError, UnicodeEncodeError,
            UnsupportedAlgorithm) as err:
        raise exception.InvalidKeypair(
            reason=f"failed to generate fingerprint: not an OpenSSH public key "
                   f"({err})") from None
    return _colons(hashlib.md5(base64.b64decode(blob), usedforsecurity=False).hexdigest())


def x509_fingerprint(certificate: str) -> str:
    """SHA-1 of the certificate's DER form, colon separated."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    try:
        cert = x509.load_pem_x509_certificate(certificate.strip().encode())
    except (ValueError, TypeError, UnicodeEncodeError) as err:
        raise exception.InvalidKeypair(
            reason=f"failed to generate X509 fingerprint. Error message: {err}") from None
    return _colons(cert.fingerprint(hashes.SHA1()).hex())  # noqa: S303 - Nova's choice


def fingerprint(key_type: str, public_key: str) -> str:
    return x509_fingerprint(public_key) if key_type == X509 else ssh_fingerprint(public_key)


def generate(key_type: str, user_id: str) -> tuple[str, str, str]:
    """A new key pair: (private key PEM, public key or certificate, fingerprint)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    if key_type == X509:
        public = _self_signed(key, user_id)
    else:
        public = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH,
            serialization.PublicFormat.OpenSSH).decode() + " Generated-by-Nova"
    return private, public, fingerprint(key_type, public)


def _self_signed(key: object, user_id: str) -> str:
    """A certificate for WinRM-style x509 key pairs: CN is the user, valid ten years."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user_id or "nova")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key())  # type: ignore[attr-defined]
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .sign(key, hashes.SHA256()))  # type: ignore[arg-type]
    return cert.public_bytes(serialization.Encoding.PEM).decode()
