"""Certificates for VIHF signatures: the trust store, and a demonstration PKI.

A VIHF is signed by the health structure's "personne morale" certificate
(ANS, CI-SIS "Volet Gestion des identités, des habilitations et des
authentifications", VIHF 3.0 §Assertion/ds:Signature: "certificat de
cachet" of the structure, issued by the IGC-Santé).  The gateway trusts
such a signature when the certificate chains to one of the certification
authorities of its trust store: a folder of PEM files (``XDSGW_TRUST_DIR``),
typically the IGC-Santé CA certificates, or the demo CA below for tests.

:func:`create_demo_pki` writes a throw-away PKI shaped like the ANS test
certificates (a CA, and a structure certificate whose subject carries the
structure's id), so that tests and the README's examples can sign VIHFs
with ``xds-gateway vihf sign`` without any real certificate.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

__all__ = [
    "DEMO_STRUCTURE_ID",
    "CertificateRejected",
    "DemoPki",
    "TrustStore",
    "TrustStoreError",
    "create_demo_pki",
    "load_trust_store",
    "subject_dn",
]

#: A fictitious Identifiant_Structure: "1" + a FINESS number of the
#: nonexistent department 99, so it can never name a real structure.
DEMO_STRUCTURE_ID = "1990000001"
DEMO_ORGANIZATION = "CENTRE DE SANTE DEMO XDS"

#: Smallest RSA key accepted for a VIHF signature (the IGC-Santé issues
#: 2048-bit keys; anything shorter is refused as too weak).
MIN_RSA_BITS = 2048
#: Longest chain followed from the signing certificate to a trusted CA.
MAX_CHAIN_LENGTH = 4


class TrustStoreError(Exception):
    """The trust store cannot be used (missing folder, no CA, unreadable or non-CA certificate)."""


class CertificateRejected(Exception):
    """A certificate does not chain to the trust store; ``reason`` is fit for a client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def subject_dn(certificate: x509.Certificate) -> str:
    """The certificate's subject as an RFC 4514 (RFC 2253) string, as a VIHF ``Issuer`` carries it.

    The CI-SIS asks for the signing certificate's DN in RFC 2253 form in
    ``/Assertion/Issuer`` (Format ``…:X509SubjectName``).
    """
    return certificate.subject.rfc4514_string({NameOID.SERIAL_NUMBER: "serialNumber"})


@dataclass(frozen=True)
class TrustStore:
    """The certification authorities a VIHF signing certificate must chain to."""

    certificates: tuple[x509.Certificate, ...]
    directory: Path | None = None

    def verify(
        self,
        certificate: x509.Certificate,
        intermediates: tuple[x509.Certificate, ...] = (),
        *,
        at: datetime,
    ) -> x509.Certificate:
        """Check that ``certificate`` chains to a trusted CA at time ``at``; return that CA.

        Each link is checked for its issuer name and signature
        (``verify_directly_issued_by``) and its validity dates; an
        intermediate must be a CA (basicConstraints cA, RFC 5280 §4.2.1.9).
        A certificate issued directly by a trusted CA needs no
        intermediate.  Revocation is not checked (no CRL or OCSP access).
        Raises :class:`CertificateRejected`.
        """
        _check_dates(certificate, at, "the signing certificate")
        _check_signing_use(certificate)
        current = certificate
        for _ in range(MAX_CHAIN_LENGTH):
            anchor = next((ca for ca in self.certificates if _issued_by(current, ca)), None)
            if anchor is not None:
                _check_dates(anchor, at, "the trusted certification authority")
                return anchor
            parent = next((c for c in intermediates if _is_ca(c) and _issued_by(current, c)), None)
            if parent is None:
                break
            _check_dates(parent, at, "an intermediate certification authority")
            current = parent
        raise CertificateRejected(
            "the signing certificate is not issued by a certification authority this gateway trusts"
        )


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    if certificate.issuer != issuer.subject:
        return False
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _check_dates(certificate: x509.Certificate, at: datetime, what: str) -> None:
    if at < certificate.not_valid_before_utc:
        raise CertificateRejected(f"{what} is not valid before {_iso(certificate.not_valid_before_utc)}")
    if at > certificate.not_valid_after_utc:
        raise CertificateRejected(f"{what} expired on {_iso(certificate.not_valid_after_utc)}")


def _check_signing_use(certificate: x509.Certificate) -> None:
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise CertificateRejected("the signing certificate does not hold an RSA key")
    if key.key_size < MIN_RSA_BITS:
        raise CertificateRejected(f"the signing certificate's RSA key is shorter than {MIN_RSA_BITS} bits")
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    # RFC 5280 §4.2.1.3: signing data needs digitalSignature (or nonRepudiation, which the
    # IGC-Santé "cachet" certificates may carry instead).
    if not (usage.digital_signature or usage.content_commitment):
        raise CertificateRejected("the signing certificate's key usage does not allow signatures")


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_trust_store(directory: str | Path) -> TrustStore:
    """Load every ``*.pem`` file of ``directory`` (each may hold several certificates).

    Every certificate must be a CA certificate: a leaf dropped in the trust
    store by mistake would otherwise silently trust nothing, or the wrong
    thing.  Raises :class:`TrustStoreError` with a message naming the file.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise TrustStoreError(f"the trust store {folder} is not a folder")
    certificates: list[x509.Certificate] = []
    for path in sorted(folder.glob("*.pem")):
        try:
            found = x509.load_pem_x509_certificates(path.read_bytes())
        except OSError as exc:
            raise TrustStoreError(f"cannot read {path}: {exc.strerror}") from None
        except ValueError:
            raise TrustStoreError(f"{path} holds no readable PEM certificate") from None
        for certificate in found:
            if not _is_ca(certificate):
                raise TrustStoreError(f"{path}: {subject_dn(certificate)} is not a CA certificate")
        certificates.extend(found)
    if not certificates:
        raise TrustStoreError(f"the trust store {folder} holds no *.pem certificate")
    return TrustStore(tuple(certificates), folder)


# --------------------------------------------------------------------------
# Demonstration PKI
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoPki:
    """The files :func:`create_demo_pki` wrote."""

    directory: Path
    ca_certificate: Path  # ca.pem
    structure_certificate: Path  # structure.pem
    structure_key: Path  # structure.key (mode 0600)
    trust_dir: Path  # trust/, holding ca.pem: the folder for XDSGW_TRUST_DIR
    structure_id: str
    #: RFC 4514 DN of the structure certificate: the VIHF's Issuer.
    structure_subject: str


def _name(*attributes: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write(path: Path, data: bytes, mode: int) -> None:
    # Created with its final mode: a private key is never readable by others, not even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def create_demo_pki(
    directory: str | Path,
    *,
    structure_id: str = DEMO_STRUCTURE_ID,
    organization: str = DEMO_ORGANIZATION,
    now: datetime | None = None,
) -> DemoPki:
    """Write a test CA and a structure certificate into ``directory``; for tests and demos only.

    Files: ``ca.pem`` (self-signed RSA 2048 CA, cA:true, 10 years),
    ``structure.pem`` and ``structure.key`` (the structure's "personne
    morale" certificate, 3 years, subject ``C=FR, ST=…, O=<organization>,
    OU=<structure id>, serialNumber=<structure id>, CN=…`` like the ANS test
    certificates), and ``trust/ca.pem``.  The CA's private key is not kept:
    nothing else can ever be issued by this CA.  Existing files are never
    overwritten (:class:`FileExistsError`).
    """
    folder = Path(directory)
    trust = folder / "trust"
    paths = [folder / "ca.pem", folder / "structure.pem", folder / "structure.key", trust / "ca.pem"]
    existing = [str(p) for p in paths if p.exists()]
    if existing:
        raise FileExistsError(f"will not overwrite {', '.join(existing)}")
    trust.mkdir(parents=True, exist_ok=True)
    # Backdated by a day so that a client whose clock is a little behind still accepts them.
    start = (now or datetime.now(timezone.utc)) - timedelta(days=1)

    ca_key = _new_key()
    ca_name = _name(
        (NameOID.COUNTRY_NAME, "FR"),
        (NameOID.ORGANIZATION_NAME, "XDS GATEWAY DEMO"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "IGC DE DEMONSTRATION - NE PAS UTILISER EN PRODUCTION"),
        (NameOID.COMMON_NAME, "XDS GATEWAY DEMO CA"),
    )
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3652))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = _new_key()
    subject = _name(
        (NameOID.COUNTRY_NAME, "FR"),
        (NameOID.STATE_OR_PROVINCE_NAME, "Paris (75)"),
        (NameOID.ORGANIZATION_NAME, organization),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, structure_id),
        (NameOID.SERIAL_NUMBER, structure_id),
        (NameOID.COMMON_NAME, "SIGNATURE VIHF DEMO"),
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3 * 365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write(paths[0], _pem(ca), 0o644)
    _write(paths[1], _pem(certificate), 0o644)
    _write(paths[2], key_pem, 0o600)
    _write(paths[3], _pem(ca), 0o644)
    return DemoPki(
        directory=folder,
        ca_certificate=paths[0],
        structure_certificate=paths[1],
        structure_key=paths[2],
        trust_dir=trust,
        structure_id=structure_id,
        structure_subject=subject_dn(certificate),
    )
