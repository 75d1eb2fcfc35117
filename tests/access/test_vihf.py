"""VIHF verification (gateway.access.vihf): what is accepted, everything refused, and ``xds-gateway vihf sign``."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree
from signxml import XMLSigner
from signxml.signer import SignatureReference

from gateway.access.model import AccessMode, Actor, ActorKind
from gateway.access.pki import load_trust_store
from gateway.access.vihf import (
    DS,
    FAILED_AUTHENTICATION,
    HL7,
    INVALID_SECURITY,
    MANDATORY_ATTRIBUTES,
    PURPOSE_OF_USE,
    RESOURCE_ID,
    ROLE,
    SAML2,
    VihfRejected,
    verify_vihf,
)
from gateway.metadata import Code
from gateway.safexml import parse_xml
from gateway.soap.envelope import build_soap_fault
from gateway.soap.namespaces import SOAP12, WSSE

from ..support.vihf import DemoIdentity

SCRIPT = Path(sys.executable).with_name("xds-gateway")
SKEW = timedelta(minutes=5)


@pytest.fixture(scope="module")
def demo_identity() -> DemoIdentity:
    return DemoIdentity.shared()


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def verify(header: etree._Element | None, identity: DemoIdentity, *, now: datetime | None = None) -> Actor:
    return verify_vihf(header, identity.trust, now=now or _now())


def refused(header: etree._Element | None, identity: DemoIdentity, *, now: datetime | None = None) -> VihfRejected:
    with pytest.raises(VihfRejected) as caught:
        verify(header, identity, now=now)
    return caught.value


def _q(name: str) -> str:
    return f"{{{SAML2}}}{name}"


def _attribute(assertion: etree._Element, name: str) -> etree._Element:
    return assertion.find(f"{_q('AttributeStatement')}/{_q('Attribute')}[@Name='{name}']")


# --------------------------------------------------------------------------
# Accepted
# --------------------------------------------------------------------------

def test_a_signed_vihf_gives_the_exact_actor(demo_identity):
    header = demo_identity.security_header(demo_identity.assertion())

    assert verify(header, demo_identity) == demo_identity.actor()


def test_every_attribute_reaches_the_actor(demo_identity):
    expected = demo_identity.actor(
        id="810001234567",
        name="MARTIN Paul",
        roles=(Code("21", "1.2.250.1.71.1.2.7", "Pharmacien"), Code("G", "1.2.250.1.213.1.1.4.5", None)),
        activity_sector="SA01^1.2.250.1.71.4.2.4",
        access_mode=AccessMode.BREAK_THE_GLASS,
        patient_id="184057512345678^^^&1.2.250.1.213.1.4.8&ISO^NH",
        authentication_mode="INDIRECTE_RENFORCEE",
        software_name="LOGICIEL",
        software_version="7.4",
        software_approval="",
        other={"LPS_ID": ("1.2.250.1.259.1.1.1234567890",)},
    )
    fields = {name: getattr(expected, name) for name in expected.__dataclass_fields__ if name != "kind"}

    actor = verify(demo_identity.security_header(demo_identity.assertion(**fields)), demo_identity)

    assert actor == expected
    assert actor.is_break_the_glass


@pytest.mark.parametrize("mode", list(AccessMode))
def test_each_access_mode_is_read(demo_identity, mode):
    actor = verify(demo_identity.security_header(demo_identity.assertion(access_mode=mode)), demo_identity)

    assert actor.access_mode is mode


@pytest.mark.parametrize(
    ("role", "kind"),
    [
        (Code("10", "1.2.250.1.71.1.2.7", "Médecin"), ActorKind.PROFESSIONAL),
        (Code("AUTOMATE", "1.2.250.1.213.1.1.4.6", "AUTOMATE"), ActorKind.SOFTWARE),
        (Code("PATIENT", "1.2.250.1.213.1.1.4.6", "Patient"), ActorKind.PATIENT),
        (Code("REPRESENTANT_LEGAL", "1.2.250.1.213.1.1.4.6", None), ActorKind.LEGAL_REPRESENTATIVE),
        # AUTOMATE means a process only in TRE_A00.
        (Code("AUTOMATE", "1.2.3.4", None), ActorKind.PROFESSIONAL),
        # PATIENT and REPRESENTANT_LEGAL too: only in TRE_A00.
        (Code("PATIENT", "1.2.3.4", None), ActorKind.PROFESSIONAL),
        (Code("REPRESENTANT_LEGAL", "1.2.250.1.71.1.2.7", None), ActorKind.PROFESSIONAL),
    ],
)
def test_the_first_role_decides_the_kind_of_caller(demo_identity, role, kind):
    actor = verify(demo_identity.security_header(demo_identity.assertion(roles=(role,))), demo_identity)

    assert actor.kind is kind
    assert actor.roles == (role,)


def test_vihf_version_4_0_is_accepted(demo_identity):
    header = demo_identity.security_header(demo_identity.assertion(version="4.0"))

    assert verify(header, demo_identity) == demo_identity.actor()


def test_rsa_sha1_signatures_are_accepted(demo_identity):
    vihf = demo_identity.assertion(algorithm="rsa-sha1")
    assert b"xmldsig#rsa-sha1" in vihf and b"xmldsig#sha1" in vihf

    assert verify(demo_identity.security_header(vihf), demo_identity) == demo_identity.actor()


def test_a_vihf_without_conditions_is_accepted(demo_identity):
    # NotBefore / NotOnOrAfter are optional in the VIHF ("Facultatif").
    unsigned = demo_identity.unsigned()
    unsigned.remove(unsigned.find(_q("Conditions")))
    vihf = demo_identity.sign(unsigned)
    assert b"Conditions" not in vihf

    assert verify(demo_identity.security_header(vihf), demo_identity) == demo_identity.actor()


def test_the_attribute_names_the_field_writes_in_another_case_are_accepted(demo_identity):
    unsigned = demo_identity.unsigned()
    _attribute(unsigned, "Authentification_Mode").set("Name", "Authentification_mode")

    actor = verify(demo_identity.security_header(demo_identity.sign(unsigned)), demo_identity)

    assert actor.authentication_mode == "INDIRECTE"


def test_roles_split_over_several_attributes_are_all_read(demo_identity):
    unsigned = demo_identity.unsigned()
    roles = _attribute(unsigned, ROLE)
    second = copy.deepcopy(roles)
    roles.remove(roles[1])
    second.remove(second[0])
    roles.addnext(second)

    actor = verify(demo_identity.security_header(demo_identity.sign(unsigned)), demo_identity)

    assert actor.roles == demo_identity.actor().roles


def test_a_vihf_in_a_whole_soap_envelope_verifies(demo_identity):
    # As a request brings it: declared inside a SOAP header whose envelope
    # declares namespaces of its own, parsed by the hardened parser.
    vihf = demo_identity.assertion().decode()
    request = (
        f'<env:Envelope xmlns:env="{SOAP12}" xmlns:saml2="{SAML2}" xmlns:ds="{DS}" xmlns:hl7="{HL7}">'
        f'<env:Header><wsse:Security xmlns:wsse="{WSSE}" env:mustUnderstand="true">{vihf}</wsse:Security>'
        f"</env:Header><env:Body/></env:Envelope>"
    ).encode()
    header = parse_xml(request).find(f"{{{SOAP12}}}Header/{{{WSSE}}}Security")

    assert verify(header, demo_identity) == demo_identity.actor()


def test_inclusive_namespace_prefixes_in_the_canonicalization_method_are_accepted(demo_identity):
    # OpenSAML (Java LPS) writes ec:InclusiveNamespaces in SignedInfo/CanonicalizationMethod.
    unsigned = demo_identity.unsigned()
    unsigned.find(_q("Issuer")).addnext(etree.Element(f"{{{DS}}}Signature", nsmap={"ds": DS}, Id="placeholder"))
    signer = XMLSigner(c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
    signed = etree.tostring(signer.sign(
        unsigned, key=demo_identity.key_pem, cert=demo_identity.cert_pem.decode(),
        # An empty list for the reference: signxml would digest it with the prefixes
        # without writing them in its Transform.
        reference_uri=[SignatureReference("#" + unsigned.get("ID"), inclusive_ns_prefixes=[])],
        id_attribute="ID", inclusive_ns_prefixes=["ds", "saml2", "xsi"],
    ))
    assert b'PrefixList="ds saml2 xsi"' in signed

    assert verify(demo_identity.security_header(signed), demo_identity) == demo_identity.actor()


def test_comments_added_to_a_signed_value_change_nothing(demo_identity):
    # Exclusive c14n drops comments, so a comment keeps the digest; what is
    # read must still be the whole signed text (not the part before the comment).
    header = demo_identity.security_header(demo_identity.assertion())
    name_id = header.find(f"{_q('Assertion')}/{_q('Subject')}/{_q('NameID')}")
    name_id.text = "8999"
    name_id.append(etree.Comment("x"))
    name_id[0].tail = "00000001"

    assert verify(header, demo_identity).id == "899900000001"


# --------------------------------------------------------------------------
# Missing or malformed: wsse:InvalidSecurity
# --------------------------------------------------------------------------

def test_no_security_header_is_refused(demo_identity):
    error = refused(None, demo_identity)

    assert error.fault_subcode == INVALID_SECURITY
    assert "no WS-Security header" in error.reason


def test_a_security_header_without_assertion_is_refused(demo_identity):
    error = refused(demo_identity.security_header(), demo_identity)

    assert error.fault_subcode == INVALID_SECURITY
    assert error.reason == "the wsse:Security header holds no SAML 2.0 assertion: a VIHF is required"


def test_another_header_block_is_not_a_security_header(demo_identity):
    other = etree.Element(f"{{{SOAP12}}}Header")
    other.append(parse_xml(demo_identity.assertion()))

    error = refused(other, demo_identity)

    assert error.fault_subcode == INVALID_SECURITY
    assert "wsse:Security" in error.reason


def test_an_unsigned_vihf_is_refused(demo_identity):
    unsigned = demo_identity.unsigned()

    error = refused(demo_identity.security_header(unsigned), demo_identity)

    assert error.fault_subcode == INVALID_SECURITY
    assert "the VIHF is not signed" in error.reason


def test_a_vihf_with_a_removed_signature_is_refused(demo_identity):
    header = demo_identity.security_header(demo_identity.assertion())
    assertion = header[0]
    assertion.remove(assertion.find(f"{{{DS}}}Signature"))

    assert refused(header, demo_identity).fault_subcode == INVALID_SECURITY


def test_a_saml_1_or_unversioned_assertion_is_refused(demo_identity):
    header = demo_identity.security_header(demo_identity.assertion())
    header[0].set("Version", "1.1")

    error = refused(header, demo_identity)

    assert error.fault_subcode == INVALID_SECURITY
    assert "SAML 2.0" in error.reason


@pytest.mark.parametrize("name", MANDATORY_ATTRIBUTES)
def test_each_mandatory_attribute_is_required(demo_identity, name):
    header = demo_identity.security_header(demo_identity.assertion(omit=(name,)))

    error = refused(header, demo_identity)

    assert error.fault_subcode == INVALID_SECURITY
    assert error.reason == f"the VIHF lacks the mandatory attribute {name}"


def test_an_empty_mandatory_attribute_counts_as_missing(demo_identity):
    unsigned = demo_identity.unsigned()
    _attribute(unsigned, "LPS_Nom")[0].text = "  "

    error = refused(demo_identity.security_header(demo_identity.sign(unsigned)), demo_identity)

    assert error.reason == "the VIHF lacks the mandatory attribute LPS_Nom"


def test_the_name_id_is_required(demo_identity):
    error = refused(demo_identity.security_header(demo_identity.assertion(id="")), demo_identity)

    assert error.fault_subcode == INVALID_SECURITY
    assert error.reason == "the VIHF lacks the mandatory Subject/NameID (the user's national id)"


def test_the_homologation_number_is_optional(demo_identity):
    actor = verify(demo_identity.security_header(demo_identity.assertion(software_approval="")), demo_identity)

    assert actor == demo_identity.actor(software_approval="")


def test_an_unknown_vihf_version_is_refused(demo_identity):
    error = refused(demo_identity.security_header(demo_identity.assertion(version="2.0")), demo_identity)

    assert error.fault_subcode == INVALID_SECURITY
    assert error.reason == "VIHF_Version '2.0' is not supported (expected one of: 3.0, 4.0)"


@pytest.mark.parametrize(
    ("code", "system"),
    [("urgence", "1.2.250.1.213.1.1.4.248"), ("normal", "2.16.840.1.113883.5.8")],
)
def test_an_access_mode_outside_the_vihf_code_system_is_refused(demo_identity, code, system):
    unsigned = demo_identity.unsigned()
    purpose = _attribute(unsigned, PURPOSE_OF_USE)[0][0]
    purpose.set("code", code)
    purpose.set("codeSystem", system)

    error = refused(demo_identity.security_header(demo_identity.sign(unsigned)), demo_identity)

    assert error.fault_subcode == INVALID_SECURITY
    assert "must be one of normal, bris_de_glace, centre_15 in the code system 1.2.250.1.213.1.1.4.248" in error.reason


def test_a_purpose_of_use_as_text_is_refused(demo_identity):
    unsigned = demo_identity.unsigned()
    value = _attribute(unsigned, PURPOSE_OF_USE)[0]
    value.remove(value[0])
    value.text = "normal"

    error = refused(demo_identity.security_header(demo_identity.sign(unsigned)), demo_identity)

    assert error.fault_subcode == INVALID_SECURITY
    assert "must be one HL7 CE element" in error.reason


def test_a_role_without_code_system_is_refused(demo_identity):
    unsigned = demo_identity.unsigned()
    del _attribute(unsigned, ROLE)[0][0].attrib["codeSystem"]

    error = refused(demo_identity.security_header(demo_identity.sign(unsigned)), demo_identity)

    assert error.reason == f"a value of the VIHF attribute {ROLE} lacks its code or codeSystem"


@pytest.mark.parametrize("patient", ["279035121518989", "2 79 03 51 215 189 89", "279035121518989^^^&INS&L^NH"])
def test_a_patient_that_is_not_a_cx_is_refused(demo_identity, patient):
    error = refused(demo_identity.security_header(demo_identity.assertion(patient_id=patient)), demo_identity)

    assert error.fault_subcode == INVALID_SECURITY
    assert error.reason.startswith(f"the VIHF attribute {RESOURCE_ID} must be the patient's INS as CX")


def test_an_attribute_given_twice_is_refused(demo_identity):
    unsigned = demo_identity.unsigned()
    patient = _attribute(unsigned, RESOURCE_ID)
    patient.addnext(copy.deepcopy(patient))

    error = refused(demo_identity.security_header(demo_identity.sign(unsigned)), demo_identity)

    assert error.fault_subcode == INVALID_SECURITY
    assert error.reason == f"the VIHF attribute {RESOURCE_ID} appears more than once"


def test_a_single_valued_attribute_with_two_values_is_refused(demo_identity):
    unsigned = demo_identity.unsigned()
    patient = _attribute(unsigned, RESOURCE_ID)
    patient.append(copy.deepcopy(patient[0]))

    error = refused(demo_identity.security_header(demo_identity.sign(unsigned)), demo_identity)

    assert error.reason == f"the VIHF attribute {RESOURCE_ID} has 2 values; one is expected"


def test_inclusive_canonicalization_is_refused(demo_identity):
    # SAML 2.0 core §5.4.3: exclusive c14n.
    header = demo_identity.security_header(demo_identity.assertion())
    method = header.find(f".//{{{DS}}}CanonicalizationMethod")
    method.set("Algorithm", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315")

    error = refused(header, demo_identity)

    assert error.fault_subcode == INVALID_SECURITY
    assert "exclusive canonicalization" in error.reason


# --------------------------------------------------------------------------
# Forged, untrusted, expired: wsse:FailedAuthentication
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def stranger(tmp_path_factory) -> DemoIdentity:
    """Another demo PKI: a valid signature by a CA the shared trust store does not hold."""
    return DemoIdentity.create(tmp_path_factory.mktemp("stranger"))


def test_a_vihf_signed_under_an_untrusted_ca_is_refused(demo_identity, stranger):
    error = refused(demo_identity.security_header(stranger.assertion()), demo_identity)

    assert error.fault_subcode == FAILED_AUTHENTICATION
    assert error.reason == (
        "the VIHF signature is not trusted: the signing certificate is not issued by a certification "
        "authority this gateway trusts"
    )
    # ... while the stranger's own trust store accepts it.
    assert verify(stranger.security_header(stranger.assertion()), stranger) == stranger.actor()


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda a: a.find(f"{_q('Subject')}/{_q('NameID')}").__setattr__("text", "800000000666"),
                     id="NameID"),
        pytest.param(lambda a: _attribute(a, PURPOSE_OF_USE)[0][0].set("code", "bris_de_glace"), id="access mode"),
        pytest.param(lambda a: _attribute(a, RESOURCE_ID)[0].__setattr__(
            "text", "184057512345678^^^&1.2.250.1.213.1.4.8&ISO^NH"), id="patient"),
        pytest.param(lambda a: _attribute(a, ROLE).append(copy.deepcopy(_attribute(a, ROLE)[0])), id="added role"),
        pytest.param(lambda a: a.find(_q("Conditions")).set("NotOnOrAfter", "2099-01-01T00:00:00Z"),
                     id="validity"),
    ],
)
def test_an_assertion_altered_after_signing_is_refused(demo_identity, tamper):
    header = demo_identity.security_header(demo_identity.assertion())
    tamper(header[0])

    error = refused(header, demo_identity)

    assert error.fault_subcode == FAILED_AUTHENTICATION
    assert error.reason == (
        "the VIHF signature is not valid: the assertion was altered after it was signed, or signed with another key"
    )
    assert error.detail  # the library's diagnostic, for the traces only


def test_a_certificate_swapped_into_key_info_is_refused(demo_identity, stranger):
    # A trusted certificate placed in KeyInfo does not make a stranger's signature valid.
    header = demo_identity.security_header(stranger.assertion())
    trusted = parse_xml(demo_identity.assertion()).find(f".//{{{DS}}}X509Certificate").text
    header.find(f".//{{{DS}}}X509Certificate").text = trusted

    error = refused(header, demo_identity)

    assert error.fault_subcode == FAILED_AUTHENTICATION
    assert "signature is not valid" in error.reason


def test_an_unsigned_assertion_before_the_signed_one_is_refused(demo_identity):
    forged = demo_identity.unsigned(access_mode=AccessMode.BREAK_THE_GLASS)
    header = demo_identity.security_header(forged, demo_identity.assertion())

    error = refused(header, demo_identity)

    assert error.fault_subcode == INVALID_SECURITY
    assert error.reason == "the wsse:Security header holds 2 SAML 2.0 assertions; one VIHF is expected"


def _wrap(signed: bytes, forged: etree._Element, *, same_id: bool) -> etree._Element:
    """Signature wrapping: the signed assertion hidden in the Advice of a forged one bearing its signature."""
    original = parse_xml(signed)
    if same_id:
        forged.set("ID", original.get("ID"))
    forged.find(_q("Issuer")).addnext(copy.deepcopy(original.find(f"{{{DS}}}Signature")))
    advice = etree.Element(_q("Advice"))
    advice.append(original)
    forged.find(_q("Subject")).addnext(advice)
    return forged


def test_the_signed_assertion_moved_into_a_forged_one_is_refused(demo_identity):
    forged = demo_identity.unsigned(patient_id="184057512345678^^^&1.2.250.1.213.1.4.8&ISO^NH")
    header = demo_identity.security_header(_wrap(demo_identity.assertion(), forged, same_id=False))

    error = refused(header, demo_identity)

    assert error.fault_subcode == FAILED_AUTHENTICATION
    assert error.reason.startswith("the VIHF signature must cover the assertion itself")


def test_the_signed_assertion_moved_into_a_forged_one_with_its_id_is_refused(demo_identity):
    forged = demo_identity.unsigned(patient_id="184057512345678^^^&1.2.250.1.213.1.4.8&ISO^NH")
    header = demo_identity.security_header(_wrap(demo_identity.assertion(), forged, same_id=True))

    error = refused(header, demo_identity)

    # Two elements answer to the Reference: signxml refuses the ambiguity.
    assert error.fault_subcode == INVALID_SECURITY
    assert error.reason == "the VIHF signature is malformed"
    assert "Ambiguous" in (error.detail or "")


def test_the_signed_assertion_hidden_under_another_element_is_not_found(demo_identity):
    security = demo_identity.security_header()
    extensions = etree.SubElement(security, "{urn:example:extensions}Extensions")
    extensions.append(parse_xml(demo_identity.assertion()))
    security.append(demo_identity.unsigned(access_mode=AccessMode.BREAK_THE_GLASS))

    error = refused(security, demo_identity)

    assert error.fault_subcode == INVALID_SECURITY
    assert "the VIHF is not signed" in error.reason


def test_a_signature_covering_another_element_is_refused(demo_identity):
    header = demo_identity.security_header(demo_identity.assertion())
    reference = header.find(f".//{{{DS}}}Reference")
    reference.set("URI", "#elsewhere")

    error = refused(header, demo_identity)

    assert error.fault_subcode == FAILED_AUTHENTICATION
    assert error.reason.startswith("the VIHF signature must cover the assertion itself")


@pytest.mark.parametrize("algorithm", ["rsa-sha512", "rsa-sha384"])
def test_an_algorithm_other_than_rsa_sha256_or_sha1_is_refused(demo_identity, algorithm):
    error = refused(demo_identity.security_header(demo_identity.assertion(algorithm=algorithm)), demo_identity)

    assert error.fault_subcode == FAILED_AUTHENTICATION
    assert error.reason == (
        f"the VIHF is signed with the algorithm http://www.w3.org/2001/04/xmldsig-more#{algorithm}, which this "
        "gateway does not accept; sign with RSA-SHA256 (http://www.w3.org/2001/04/xmldsig-more#rsa-sha256)"
    )


def test_an_expired_vihf_is_refused_beyond_the_clock_skew(demo_identity):
    issued = _now()
    header = demo_identity.security_header(demo_identity.assertion(now=issued, valid_for=timedelta(minutes=30)))
    end = issued + timedelta(minutes=30)

    assert verify(header, demo_identity, now=end + SKEW - timedelta(seconds=1)) == demo_identity.actor()
    error = refused(header, demo_identity, now=end + SKEW)
    assert error.fault_subcode == FAILED_AUTHENTICATION
    assert error.reason == f"the VIHF expired at {end.strftime('%Y-%m-%dT%H:%M:%S')}.000Z"


def test_a_vihf_not_yet_valid_is_refused_beyond_the_clock_skew(demo_identity):
    issued = _now()
    start = issued + timedelta(hours=1)
    header = demo_identity.security_header(
        demo_identity.assertion(now=issued, not_before=start, valid_for=timedelta(hours=2))
    )

    assert verify(header, demo_identity, now=start - SKEW) == demo_identity.actor()
    error = refused(header, demo_identity, now=start - SKEW - timedelta(seconds=1))
    assert error.fault_subcode == FAILED_AUTHENTICATION
    assert error.reason == f"the VIHF is not valid before {start.strftime('%Y-%m-%dT%H:%M:%S')}.000Z"


def test_a_vihf_issued_in_the_future_is_refused(demo_identity):
    issued = _now() + timedelta(minutes=10)
    header = demo_identity.security_header(demo_identity.assertion(now=issued, not_before=_now()))

    error = refused(header, demo_identity)

    assert error.fault_subcode == FAILED_AUTHENTICATION
    assert error.reason.startswith("the VIHF is issued in the future")


def test_a_vihf_signed_with_an_expired_certificate_is_refused(demo_identity):
    # Four years on, the structure certificate (3 years) has expired, however fresh the assertion.
    later = _now() + timedelta(days=4 * 365)
    header = demo_identity.security_header(demo_identity.assertion(now=later))

    error = refused(header, demo_identity, now=later)

    assert error.fault_subcode == FAILED_AUTHENTICATION
    assert error.reason.startswith("the VIHF signature is not trusted: the signing certificate expired on")


def test_a_naive_time_is_a_programming_error(demo_identity):
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_vihf(None, demo_identity.trust, now=datetime.now())


# --------------------------------------------------------------------------
# The SOAP fault
# --------------------------------------------------------------------------

@pytest.mark.parametrize("subcode", [INVALID_SECURITY, FAILED_AUTHENTICATION])
def test_a_refusal_becomes_a_sender_fault_with_the_ws_security_subcode(subcode):
    fault = VihfRejected("the VIHF is not signed", subcode).soap_fault(relates_to="urn:uuid:1")

    assert fault.code == "Sender"
    assert fault.subcode == subcode
    assert fault.http_status == 400
    envelope = etree.fromstring(build_soap_fault(fault))
    value = envelope.find(f".//{{{SOAP12}}}Subcode/{{{SOAP12}}}Value")
    prefix, local = value.text.split(":")
    assert (value.nsmap[prefix], local) == subcode
    assert envelope.find(f".//{{{SOAP12}}}Reason/{{{SOAP12}}}Text").text == "the VIHF is not signed"


# --------------------------------------------------------------------------
# xds-gateway vihf sign
# --------------------------------------------------------------------------

def _run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDSGW_")}
    env["XDSGW_DATA_DIR"] = str(tmp_path / "var")
    return subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60)


def test_vihf_sign_prints_a_demo_vihf_the_demo_trust_store_accepts(tmp_path):
    assert _run("pki", "demo", str(tmp_path / "pki"), tmp_path=tmp_path).returncode == 0

    result = _run("vihf", "sign", "--cert", str(tmp_path / "pki/structure.pem"),
                  "--key", str(tmp_path / "pki/structure.key"), tmp_path=tmp_path)

    assert result.returncode == 0, result.stderr
    header = DemoIdentity.security_header(result.stdout.encode())
    actor = verify_vihf(header, load_trust_store(tmp_path / "pki/trust"), now=_now())
    assert actor == DemoIdentity.shared().actor()


def test_vihf_sign_writes_the_attributes_given(tmp_path):
    assert _run("pki", "demo", str(tmp_path / "pki"), tmp_path=tmp_path).returncode == 0

    result = _run(
        "vihf", "sign", "--cert", str(tmp_path / "pki/structure.pem"), "--key", str(tmp_path / "pki/structure.key"),
        "--professional-id", "810001234567", "--name", "MARTIN Paul",
        "--role", "21^Pharmacien^1.2.250.1.71.1.2.7", "--role", "G^^1.2.250.1.213.1.1.4.5",
        "--structure-id", "3123456789", "--sector", "SA33^1.2.250.1.71.4.2.4", "--mode", "centre_15",
        "--patient", "184057512345678^^^&1.2.250.1.213.1.4.8&ISO^NH",
        "--software", "LOGICIEL", "--version", "7.4", "--approval", "HOMOLOG-42",
        "--valid-minutes", "5", "--version-vihf", "4.0", "--algorithm", "rsa-sha1",
        tmp_path=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert "rsa-sha1" in result.stdout and "<saml2:AttributeValue>4.0</saml2:AttributeValue>" in result.stdout
    trust = load_trust_store(tmp_path / "pki/trust")
    actor = verify_vihf(DemoIdentity.security_header(result.stdout.encode()), trust, now=_now())
    assert actor == Actor(
        id="810001234567",
        name="MARTIN Paul",
        kind=ActorKind.PROFESSIONAL,
        roles=(Code("21", "1.2.250.1.71.1.2.7", "Pharmacien"), Code("G", "1.2.250.1.213.1.1.4.5", None)),
        structure_id="3123456789",
        activity_sector="SA33^1.2.250.1.71.4.2.4",
        access_mode=AccessMode.EMERGENCY_CENTRE,
        patient_id="184057512345678^^^&1.2.250.1.213.1.4.8&ISO^NH",
        resource_urn="urn:dmp",
        authentication_mode="INDIRECTE",
        software_name="LOGICIEL",
        software_version="7.4",
        software_approval="HOMOLOG-42",
    )
    # --valid-minutes 5: expired ten minutes later (five of validity, five of skew).
    with pytest.raises(VihfRejected, match="expired"):
        verify_vihf(DemoIdentity.security_header(result.stdout.encode()), trust,
                    now=_now() + timedelta(minutes=11))


def test_vihf_sign_explains_bad_arguments(tmp_path):
    assert _run("pki", "demo", str(tmp_path / "pki"), tmp_path=tmp_path).returncode == 0
    cert, key = str(tmp_path / "pki/structure.pem"), str(tmp_path / "pki/structure.key")

    bad_role = _run("vihf", "sign", "--cert", cert, "--key", key, "--role", "10", tmp_path=tmp_path)
    missing = _run("vihf", "sign", "--cert", str(tmp_path / "nope.pem"), "--key", key, tmp_path=tmp_path)
    not_a_cert = _run("vihf", "sign", "--cert", key, "--key", key, tmp_path=tmp_path)

    assert bad_role.returncode == 2 and "is not CODE^DISPLAY^SYSTEM" in bad_role.stderr
    assert missing.returncode == 2 and "cannot read" in missing.stderr and "nope.pem" in missing.stderr
    assert not_a_cert.returncode == 2 and "is not a PEM certificate" in not_a_cert.stderr
