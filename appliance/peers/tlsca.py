"""The box's own certificate authority for the broker: a CA key and certificate made once on the
box, and a server certificate for the address helpers connect to, signed by it.

Helpers receive the CA certificate when they pair and then verify the broker's certificate on
every connection (TLS to Redis), so a machine on the LAN cannot pose as the box's broker nor read
the traffic. Keys are EC P-256, written 0600 and atomically.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from appliance.system.files import atomic_write_bytes

CA_DAYS = 3650
SERVER_DAYS = 825


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    server_cert: Path
    server_key: Path

    def server_context(self) -> ssl.SSLContext:
        """What the helper API serves with (the broker's certificate, signed by the box CA)."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.server_cert, self.server_key)
        return context


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


BOX_NAMES = ("smeshbox.local", "localhost")


def ensure_ca(directory: Path | str, host: str) -> TlsFiles:
    """Creates the CA (once) and a server certificate for ``host`` and the box's mDNS name (again
    if the host changed). The same certificate serves the broker and the helper API."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    now = datetime.datetime.now(datetime.UTC)
    ca_key_path = directory / "ca.key"
    if ca_key_path.exists() and files.ca_cert.exists():
        ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), None)
        ca_cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(_name("Smeshbox helper CA"))
            .issuer_name(_name("Smeshbox helper CA"))
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
            .sign(ca_key, hashes.SHA256())
        )
        atomic_write_bytes(ca_key_path, _key_pem(ca_key), mode=0o600)  # type: ignore[arg-type]
        atomic_write_bytes(files.ca_cert, ca_cert.public_bytes(serialization.Encoding.PEM))
    if files.server_cert.exists() and files.server_key.exists():
        current = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
        names = current.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        if _san(host) in names and current.issuer == ca_cert.subject:
            return files
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(host))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=SERVER_DAYS))
        .add_extension(
            x509.SubjectAlternativeName([_san(host), *(x509.DNSName(n) for n in BOX_NAMES if n != host)]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    atomic_write_bytes(files.server_key, _key_pem(key), mode=0o600)
    atomic_write_bytes(files.server_cert, cert.public_bytes(serialization.Encoding.PEM))
    return files
