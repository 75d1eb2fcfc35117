"""The trust store and the demo PKI (gateway.access.pki), and ``xds-gateway pki demo``."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from gateway.access.pki import (
    DEMO_STRUCTURE_ID,
    CertificateRejected,
    TrustStore,
    TrustStoreError,
    create_demo_pki,
    load_trust_store,
)

from ..support.vihf import DemoIdentity

SCRIPT = Path(sys.executable).with_name("xds-gateway")
NOW = datetime.now(timezone.utc)


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


# --------------------------------------------------------------------------
# A chain built by hand: root CA -> intermediate CA -> leaf
# --------------------------------------------------------------------------

_KEYS: dict[int, rsa.RSAPrivateKey] = {}


def _key(bits: int = 2048) -> rsa.RSAPrivateKey:
    # One key per size for the whole module: key generation is the slow part.
    if bits not in _KEYS:
        _KEYS[bits] = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return _KEYS[bits]


def _issue(subject: str, issuer: x509.Name | None, key, signing_key, *, ca: bool,
           start: datetime = NOW - timedelta(days=1), days: int = 365,
           key_usage: x509.KeyUsage | None = None) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if key_usage is not None:
        builder = builder.add_extension(key_usage, critical=True)
    return builder.sign(signing_key, hashes.SHA256())


def _usage(*, digital_signature: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature, content_commitment=False, key_encipherment=True,
        data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
        encipher_only=False, decipher_only=False,
    )


@pytest.fixture(scope="module")
def chain():
    root_key, inter_key, leaf_key = _key(), rsa.generate_private_key(65537, 2048), _key()
    root = _issue("Root CA", None, root_key, root_key, ca=True, days=3650)
    intermediate = _issue("Intermediate CA", root.subject, inter_key, root_key, ca=True, days=1825)
    leaf = _issue("Structure", intermediate.subject, leaf_key, inter_key, ca=False)
    return root, intermediate, leaf


# --------------------------------------------------------------------------
# create_demo_pki
# --------------------------------------------------------------------------

def test_the_demo_pki_writes_a_ca_a_structure_certificate_its_key_and_a_trust_store(tmp_path):
    pki = create_demo_pki(tmp_path / "pki")

    assert pki.ca_certificate == tmp_path / "pki" / "ca.pem"
    assert pki.structure_certificate == tmp_path / "pki" / "structure.pem"
    assert pki.structure_key == tmp_path / "pki" / "structure.key"
    assert pki.trust_dir == tmp_path / "pki" / "trust"
    assert (pki.trust_dir / "ca.pem").read_bytes() == pki.ca_certificate.read_bytes()
    assert stat.S_IMODE(pki.structure_key.stat().st_mode) == 0o600

    ca, structure = _cert(pki.ca_certificate), _cert(pki.structure_certificate)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert ca.subject == ca.issuer
    assert 3640 <= (ca.not_valid_after_utc - ca.not_valid_before_utc).days <= 3660
    assert isinstance(ca.public_key(), rsa.RSAPublicKey) and ca.public_key().key_size == 2048
    # The structure certificate: issued by the CA, a leaf, the structure id in its subject.
    structure.verify_directly_issued_by(ca)
    assert structure.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert structure.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == DEMO_STRUCTURE_ID
    assert structure.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == DEMO_STRUCTURE_ID
    assert structure.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert pki.structure_id == DEMO_STRUCTURE_ID
    assert pki.structure_subject.startswith("CN=") and f"OU={DEMO_STRUCTURE_ID}" in pki.structure_subject
    key = serialization.load_pem_private_key(pki.structure_key.read_bytes(), password=None)
    assert key.public_key().public_numbers() == structure.public_key().public_numbers()


def test_the_demo_pki_takes_another_structure(tmp_path):
    pki = create_demo_pki(tmp_path, structure_id="3123456789", organization="CLINIQUE TEST")

    structure = _cert(pki.structure_certificate)
    assert structure.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "3123456789"
    assert "O=CLINIQUE TEST" in pki.structure_subject


def test_the_demo_pki_never_overwrites_existing_files(tmp_path):
    create_demo_pki(tmp_path)
    key_before = (tmp_path / "structure.key").read_bytes()

    with pytest.raises(FileExistsError, match="will not overwrite"):
        create_demo_pki(tmp_path)
    assert (tmp_path / "structure.key").read_bytes() == key_before


# --------------------------------------------------------------------------
# load_trust_store
# --------------------------------------------------------------------------

def test_the_trust_store_holds_every_ca_of_every_pem_file(tmp_path, chain):
    root, intermediate, _ = chain
    (tmp_path / "a.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    both = root.public_bytes(serialization.Encoding.PEM) + intermediate.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "b.pem").write_bytes(both)
    (tmp_path / "notes.txt").write_text("not a certificate, and not a .pem: ignored")

    store = load_trust_store(tmp_path)

    assert store.certificates == (root, root, intermediate)
    assert store.directory == tmp_path


def test_a_missing_or_empty_trust_store_is_refused(tmp_path):
    with pytest.raises(TrustStoreError, match="is not a folder"):
        load_trust_store(tmp_path / "missing")
    with pytest.raises(TrustStoreError, match=r"holds no \*\.pem certificate"):
        load_trust_store(tmp_path)


def test_a_trust_store_file_that_is_not_pem_is_refused_by_name(tmp_path):
    (tmp_path / "broken.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64\n")

    with pytest.raises(TrustStoreError, match="broken.pem holds no readable PEM certificate"):
        load_trust_store(tmp_path)


def test_a_leaf_certificate_in_the_trust_store_is_refused(tmp_path, chain):
    (tmp_path / "leaf.pem").write_bytes(chain[2].public_bytes(serialization.Encoding.PEM))

    with pytest.raises(TrustStoreError, match="leaf.pem: CN=Structure is not a CA certificate"):
        load_trust_store(tmp_path)


# --------------------------------------------------------------------------
# TrustStore.verify
# --------------------------------------------------------------------------

def test_a_certificate_issued_by_a_trusted_ca_is_accepted():
    identity = DemoIdentity.shared()

    anchor = identity.trust.verify(_cert(identity.pki.structure_certificate), at=NOW)

    assert anchor == _cert(identity.pki.ca_certificate)


def test_a_certificate_of_another_ca_is_refused(tmp_path):
    other = create_demo_pki(tmp_path)

    with pytest.raises(CertificateRejected, match="not issued by a certification authority this gateway trusts"):
        DemoIdentity.shared().trust.verify(_cert(other.structure_certificate), at=NOW)


def test_a_certificate_whose_issuer_name_matches_but_signature_does_not_is_refused(chain):
    root, _, _ = chain
    # Same subject as the trusted root, another key: a forged "root" signs the leaf.
    forger = rsa.generate_private_key(65537, 2048)
    forged = _issue("Structure", root.subject, _key(), forger, ca=False)

    with pytest.raises(CertificateRejected, match="not issued by"):
        TrustStore((root,)).verify(forged, at=NOW)


def test_an_intermediate_ca_sent_with_the_certificate_completes_the_chain(chain):
    root, intermediate, leaf = chain
    store = TrustStore((root,))

    assert store.verify(leaf, (intermediate,), at=NOW) == root
    with pytest.raises(CertificateRejected, match="not issued by"):
        store.verify(leaf, at=NOW)


def test_an_intermediate_that_is_not_a_ca_does_not_count(chain):
    root, _, _ = chain
    middle_key = rsa.generate_private_key(65537, 2048)
    not_a_ca = _issue("Intermediate CA", root.subject, middle_key, _key(), ca=False)
    leaf = _issue("Structure", not_a_ca.subject, _key(), middle_key, ca=False)

    with pytest.raises(CertificateRejected, match="not issued by"):
        TrustStore((root,)).verify(leaf, (not_a_ca,), at=NOW)


def test_certificates_are_checked_at_the_given_time(chain):
    root, intermediate, leaf = chain
    store = TrustStore((root,))

    with pytest.raises(CertificateRejected, match="the signing certificate expired on"):
        store.verify(leaf, (intermediate,), at=NOW + timedelta(days=400))
    with pytest.raises(CertificateRejected, match="the signing certificate is not valid before"):
        store.verify(leaf, (intermediate,), at=NOW - timedelta(days=2))


def test_an_expired_trusted_ca_no_longer_vouches(chain):
    root_key = _key()
    old_root = _issue("Old root", None, root_key, root_key, ca=True, start=NOW - timedelta(days=400), days=100)
    leaf = _issue("Structure", old_root.subject, _key(), root_key, ca=False)

    with pytest.raises(CertificateRejected, match="the trusted certification authority expired on"):
        TrustStore((old_root,)).verify(leaf, at=NOW)


def test_a_short_rsa_key_is_refused(chain):
    root = chain[0]
    weak = _issue("Structure", root.subject, _key(1024), _key(), ca=False)

    with pytest.raises(CertificateRejected, match="shorter than 2048 bits"):
        TrustStore((root,)).verify(weak, at=NOW)


def test_a_certificate_whose_key_usage_forbids_signatures_is_refused(chain):
    root = chain[0]
    encryption_only = _issue("Structure", root.subject, _key(), _key(), ca=False,
                             key_usage=_usage(digital_signature=False))
    signing = _issue("Structure", root.subject, _key(), _key(), ca=False, key_usage=_usage(digital_signature=True))

    with pytest.raises(CertificateRejected, match="key usage does not allow signatures"):
        TrustStore((root,)).verify(encryption_only, at=NOW)
    assert TrustStore((root,)).verify(signing, at=NOW) == root


# --------------------------------------------------------------------------
# xds-gateway pki demo
# --------------------------------------------------------------------------

def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDSGW_")}
    env["XDSGW_DATA_DIR"] = str(tmp_path / "var")
    return env


def test_pki_demo_writes_a_usable_pki_and_refuses_to_overwrite_it(tmp_path):
    env = _clean_env(tmp_path)
    target = tmp_path / "demo"

    result = subprocess.run([str(SCRIPT), "pki", "demo", str(target)], env=env, capture_output=True,
                            text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert f"XDSGW_TRUST_DIR={target / 'trust'}" in result.stdout
    store = load_trust_store(target / "trust")
    assert store.verify(_cert(target / "structure.pem"), at=datetime.now(timezone.utc)) == _cert(target / "ca.pem")
    assert stat.S_IMODE((target / "structure.key").stat().st_mode) == 0o600

    again = subprocess.run([str(SCRIPT), "pki", "demo", str(target)], env=env, capture_output=True,
                           text=True, timeout=60)
    assert again.returncode == 1
    assert "will not overwrite" in again.stderr and "structure.key" in again.stderr
