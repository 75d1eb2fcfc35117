"""The VIHF: the signed SAML 2.0 assertion that says who calls the DMP, and why.

Every XDS.b request to the DMP carries, in ``soap:Header/wsse:Security``
(OASIS WS-Security SAML Token Profile 1.1 §3.4: a SAML 2.0 assertion
placed directly in the Security header), a VIHF ("Vecteur d'Identification
et d'Habilitation Formelles"): a SAML 2.0 assertion (SAML 2.0 core §2.3)
signed by the health structure's certificate, as specified by the ANS
(CI-SIS, "Volet Gestion des identités, des habilitations et des
authentifications", authentification indirecte; VIHF versions 3.0 and
4.0) and by IHE XUA (ITI TF-2 §3.40) for the attribute encoding.

The layout this module builds and expects (names exactly as the ANS writes
them; the ANS's published examples are followed for the encodings)::

    saml2:Assertion  ID, IssueInstant, Version="2.0"
      saml2:Issuer   Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName":
                     the signing certificate's DN (RFC 2253)
      ds:Signature   enveloped, exclusive c14n, Reference URI="#<ID>", X509Certificate
      saml2:Subject/saml2:NameID    the professional's national id (e.g. 8 + RPPS)
      saml2:Conditions              NotBefore / NotOnOrAfter, optional
      saml2:AuthnStatement          AuthnInstant, AuthnContextClassRef
      saml2:AttributeStatement
        VIHF_Version                          "3.0" or "4.0"
        Authentification_Mode                 "INDIRECTE" (or "INDIRECTE_RENFORCEE")
        Secteur_Activite                      "SA07^1.2.250.1.71.4.2.4" (code^OID, TRE_R02)
        urn:…:xacml:2.0:resource:resource-id  the patient's INS as CX: NIR^^^&OID&ISO^NH
        Ressource_URN                         "urn:dmp"
        urn:…:xspa:1.0:subject:subject-id     the user's name
        Identifiant_Structure                 the structure's national id
        LPS_Nom, LPS_Version, LPS_ID_HOMOLOGATION_DMP (and LPS_ID, optional)
        urn:…:xspa:1.0:subject:purposeofuse   <PurposeOfUse xmlns="urn:hl7-org:v3" xsi:type="CE"
                                                code="normal|bris_de_glace|centre_15"
                                                codeSystem="1.2.250.1.213.1.1.4.248"/>
        urn:…:xacml:2.0:subject:role          one AttributeValue per role, each an HL7 CE
                                              <Role xmlns="urn:hl7-org:v3" xsi:type="CE" …/>:
                                              profession first, then specialty (doctors,
                                              pharmacists) or role/activity.

:func:`verify_vihf` turns such an assertion into an :class:`Actor`, or
raises :class:`VihfRejected` carrying the WS-Security 1.1 §12 fault
subcode to answer with (``wsse:InvalidSecurity`` for a missing or
malformed token, ``wsse:FailedAuthentication`` for one that cannot be
trusted).  :func:`build_vihf` and :func:`sign_vihf` make assertions for
tests and for the ``xds-gateway vihf sign`` demo command.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from cryptography import x509
from lxml import etree
from signxml import SignatureConfiguration, XMLSigner, XMLVerifier
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidInput, InvalidSignature, SignXMLException

from ..metadata import Code
from ..soap.envelope import SoapFault
from ..soap.namespaces import WSSE
from .model import AccessMode, Actor, ActorKind
from .pki import DEMO_STRUCTURE_ID, CertificateRejected, TrustStore

__all__ = [
    "ACCEPTED_VERSIONS",
    "FAILED_AUTHENTICATION",
    "INVALID_SECURITY",
    "MANDATORY_ATTRIBUTES",
    "VihfRejected",
    "build_vihf",
    "demo_actor",
    "sign_vihf",
    "verify_vihf",
]

SAML2 = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

#: WS-Security 1.1 §12, Table 2: "an error was discovered processing the <wsse:Security> header".
INVALID_SECURITY = (WSSE, "InvalidSecurity")
#: WS-Security 1.1 §12, Table 2: "the security token could not be authenticated or authorized".
FAILED_AUTHENTICATION = (WSSE, "FailedAuthentication")

# Attribute names (ANS VIHF; the URNs are those of IHE XUA / OASIS XSPA).
SUBJECT_ID = "urn:oasis:names:tc:xspa:1.0:subject:subject-id"
ROLE = "urn:oasis:names:tc:xacml:2.0:subject:role"
PURPOSE_OF_USE = "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"
RESOURCE_ID = "urn:oasis:names:tc:xacml:2.0:resource:resource-id"
IDENTIFIANT_STRUCTURE = "Identifiant_Structure"
SECTEUR_ACTIVITE = "Secteur_Activite"
RESSOURCE_URN = "Ressource_URN"
AUTHENTIFICATION_MODE = "Authentification_Mode"
VIHF_VERSION = "VIHF_Version"
LPS_NOM = "LPS_Nom"
LPS_VERSION = "LPS_Version"
LPS_ID_HOMOLOGATION_DMP = "LPS_ID_HOMOLOGATION_DMP"

#: Code system of the VIHF access modes (codeSystemName "mode acces VIHF 1.0" in the ANS examples).
ACCESS_MODE_SYSTEM = "1.2.250.1.213.1.1.4.248"
#: TRE_A00-ProducteurDocNonPS, whose code AUTOMATE is the role of an automated process.
NON_PS_PRODUCER_SYSTEM = "1.2.250.1.213.1.1.4.6"
X509_SUBJECT_NAME = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"

ACCEPTED_VERSIONS = frozenset({"3.0", "4.0"})

#: What a VIHF must carry besides the Subject's NameID.  Every attribute the
#: ANS marks mandatory ("O") for the DMP in authentification indirecte, except
#: LPS_ID_HOMOLOGATION_DMP, which only homologated software has (kept if sent),
#: and the confidentiality code, mandatory only for a "connexion secrète".
MANDATORY_ATTRIBUTES = (
    VIHF_VERSION,
    AUTHENTIFICATION_MODE,
    SUBJECT_ID,
    ROLE,
    PURPOSE_OF_USE,
    IDENTIFIANT_STRUCTURE,
    SECTEUR_ACTIVITE,
    RESOURCE_ID,
    RESSOURCE_URN,
    LPS_NOM,
    LPS_VERSION,
)

# Names the verifier recognises, compared case-insensitively: SAML names are
# case-sensitive, but the ANS's own documents and the software in the field
# write e.g. both "Authentification_Mode" and "Authentification_mode".
_KNOWN = {
    name.lower(): name
    for name in (*MANDATORY_ATTRIBUTES, LPS_ID_HOMOLOGATION_DMP)
}

#: Signature algorithms accepted (XML Signature 1.1 §6.4.2).  RSA-SHA1 too, though
#: SHA-1 is deprecated there: older VIHF 3.0 software still signs with it.
_SIGNATURE_METHODS = frozenset({SignatureMethod.RSA_SHA256, SignatureMethod.RSA_SHA1})
_DIGEST_METHODS = frozenset({DigestAlgorithm.SHA256, DigestAlgorithm.SHA1})
# SAML 2.0 core §5.4.3-5.4.4: exclusive canonicalization, and no transform but
# the enveloped-signature one and exclusive c14n.
_C14N_METHODS = frozenset({
    CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0.value,
    CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0_WITH_COMMENTS.value,
})
_TRANSFORMS = _C14N_METHODS | {"http://www.w3.org/2000/09/xmldsig#enveloped-signature"}

_ACCESS_MODE_NAMES = {
    AccessMode.NORMAL: "Accès normal",
    AccessMode.BREAK_THE_GLASS: "Accès en mode bris de glace",
    AccessMode.EMERGENCY_CENTRE: "Accès en mode centre de régulation",
}

# Role codes that make the caller something other than a professional.  The
# VIHF only names professionals and automated processes (AUTOMATE, TRE_A00);
# PATIENT and REPRESENTANT_LEGAL are this gateway's convention for a patient,
# or their legal representative, acting for themselves (the real DMP serves
# them through its own portal, not through XDS.b).
_KIND_BY_ROLE_CODE = {
    "PATIENT": ActorKind.PATIENT,
    "REPRESENTANT_LEGAL": ActorKind.LEGAL_REPRESENTATIVE,
}

# A CX with an ISO assigning authority, as IHE ITI TF-3 §4.2.3.1.7 writes
# patient ids: id^^^&OID&ISO, optionally ^type (the ANS adds ^NH).
_CX = re.compile(r"[^\^&]+\^\^\^&[0-2](\.(0|[1-9][0-9]*))+&ISO(\^[A-Za-z]*)?")


class VihfRejected(Exception):
    """The VIHF is refused.

    ``reason`` is a message for the client (it never quotes a library
    error); ``fault_subcode`` the WS-Security fault QName to send
    (:data:`INVALID_SECURITY` or :data:`FAILED_AUTHENTICATION`); ``detail``
    an internal diagnostic for the gateway's traces only, when there is one.
    """

    def __init__(self, reason: str, fault_subcode: tuple[str, str], detail: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fault_subcode = fault_subcode
        self.detail = detail

    def soap_fault(self, *, relates_to: str | None = None) -> SoapFault:
        """The SOAP 1.2 fault to answer with: env:Sender, subcode wsse:… (WS-Security 1.1 §12)."""
        return SoapFault("Sender", self.reason, self.fault_subcode, relates_to=relates_to)

    def __repr__(self) -> str:
        return f"VihfRejected({self.reason!r}, {self.fault_subcode[1]})"


def _invalid(reason: str, detail: str | None = None) -> VihfRejected:
    return VihfRejected(reason, INVALID_SECURITY, detail)


def _failed(reason: str, detail: str | None = None) -> VihfRejected:
    return VihfRejected(reason, FAILED_AUTHENTICATION, detail)


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


# --------------------------------------------------------------------------
# Building and signing
# --------------------------------------------------------------------------

def _instant(moment: datetime) -> str:
    """SAML 2.0 core §1.3.3: xs:dateTime in UTC, with a "Z"."""
    if moment.tzinfo is None:
        raise ValueError("VIHF times must be timezone-aware")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def demo_actor(**overrides) -> Actor:
    """A professional for demos and tests: a general practitioner of the demo structure.

    The national id, the structure and the patient (a test INS-NIR, OID
    1.2.250.1.213.1.4.10) are fictitious.
    """
    actor = Actor(
        id="899900000001",
        name="DEMO Jeanne",
        kind=ActorKind.PROFESSIONAL,
        roles=(
            Code("10", "1.2.250.1.71.1.2.7", "Médecin"),
            Code("SM26", "1.2.250.1.71.4.2.5", "Qualifié en médecine générale (SM)"),
        ),
        structure_id=DEMO_STRUCTURE_ID,
        activity_sector="SA07^1.2.250.1.71.4.2.4",
        access_mode=AccessMode.NORMAL,
        patient_id="279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH",
        resource_urn="urn:dmp",
        authentication_mode="INDIRECTE",
        software_name="XDS-GATEWAY-DEMO",
        software_version="0.1.0",
        software_approval="DEMO-0000",
    )
    return replace(actor, **overrides)


def build_vihf(
    actor: Actor,
    *,
    issuer: str,
    not_before: datetime | None = None,
    not_on_or_after: datetime | None = None,
    issue_instant: datetime | None = None,
    version: str = "3.0",
    assertion_id: str | None = None,
    authn_context: str = "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
) -> etree._Element:
    """An unsigned VIHF (SAML 2.0 assertion) saying what ``actor`` says.

    ``issuer`` is the signing certificate's DN (:func:`.pki.subject_dn`).
    Empty fields of ``actor`` are left out, so that tests can build an
    assertion lacking an attribute; ``actor.other`` becomes extra text
    attributes.  ``actor.kind`` is not written: the verifier derives it from
    the roles.
    """
    issued = issue_instant or datetime.now(timezone.utc)
    assertion = etree.Element(
        _q(SAML2, "Assertion"),
        nsmap={"saml2": SAML2, "xsi": XSI},
        ID=assertion_id or f"_{uuid.uuid4()}",  # an xs:ID must not start with a digit
        IssueInstant=_instant(issued),
        Version="2.0",
    )
    etree.SubElement(assertion, _q(SAML2, "Issuer"), Format=X509_SUBJECT_NAME).text = issuer
    subject = etree.SubElement(assertion, _q(SAML2, "Subject"))
    if actor.id:
        etree.SubElement(subject, _q(SAML2, "NameID")).text = actor.id
    if not_before is not None or not_on_or_after is not None:
        conditions = etree.SubElement(assertion, _q(SAML2, "Conditions"))
        if not_before is not None:
            conditions.set("NotBefore", _instant(not_before))
        if not_on_or_after is not None:
            conditions.set("NotOnOrAfter", _instant(not_on_or_after))
    authn = etree.SubElement(assertion, _q(SAML2, "AuthnStatement"), AuthnInstant=_instant(issued))
    context = etree.SubElement(authn, _q(SAML2, "AuthnContext"))
    etree.SubElement(context, _q(SAML2, "AuthnContextClassRef")).text = authn_context

    statement = etree.SubElement(assertion, _q(SAML2, "AttributeStatement"))

    def text(name: str, *values: str) -> None:
        values = tuple(v for v in values if v)
        if values:
            attribute = etree.SubElement(statement, _q(SAML2, "Attribute"), Name=name)
            for value in values:
                etree.SubElement(attribute, _q(SAML2, "AttributeValue")).text = value

    def coded(name: str, tag: str, codes: Sequence[Code]) -> None:
        if not codes:
            return
        attribute = etree.SubElement(statement, _q(SAML2, "Attribute"), Name=name)
        for code in codes:
            value = etree.SubElement(attribute, _q(SAML2, "AttributeValue"))
            # As the ANS examples and IHE XUA write it: the HL7 v3 namespace as
            # default namespace, so that xsi:type="CE" names hl7:CE.
            ce = etree.SubElement(value, _q(HL7, tag), nsmap={None: HL7})
            ce.set("code", code.code)
            ce.set("codeSystem", code.scheme)
            if code.display_name:
                ce.set("displayName", code.display_name)
            ce.set(_q(XSI, "type"), "CE")

    text(VIHF_VERSION, version)
    text(AUTHENTIFICATION_MODE, actor.authentication_mode)
    text(SECTEUR_ACTIVITE, actor.activity_sector)
    text(RESOURCE_ID, actor.patient_id or "")
    text(RESSOURCE_URN, actor.resource_urn)
    text(SUBJECT_ID, actor.name)
    text(IDENTIFIANT_STRUCTURE, actor.structure_id)
    text(LPS_VERSION, actor.software_version)
    text(LPS_NOM, actor.software_name)
    text(LPS_ID_HOMOLOGATION_DMP, actor.software_approval)
    mode = AccessMode(actor.access_mode)
    coded(PURPOSE_OF_USE, "PurposeOfUse", [Code(mode.value, ACCESS_MODE_SYSTEM, _ACCESS_MODE_NAMES[mode])])
    coded(ROLE, "Role", actor.roles)
    for name, values in actor.other.items():
        text(name, *values)
    return assertion


class _Signer(XMLSigner):
    # signxml refuses to sign with SHA-1; the gateway still accepts RSA-SHA1
    # VIHFs (VIHF 3.0 software), so tests and demos must be able to make one.
    def check_deprecated_methods(self) -> None:
        pass


def sign_vihf(
    assertion: etree._Element,
    key_pem: bytes | str,
    cert_pem: bytes | str,
    *,
    algorithm: str = "rsa-sha256",
) -> etree._Element:
    """Return a signed copy of ``assertion``: an enveloped XML signature (XML Signature 1.1).

    As SAML 2.0 core §5.4 and the VIHF ask: the Reference points at the
    assertion's ID, transforms enveloped-signature + exclusive c14n, the
    signature placed right after ``saml2:Issuer`` (the schema's place for
    it), and KeyInfo carrying the certificate(s) of ``cert_pem`` (the
    signing certificate first, then any intermediate CA).  ``algorithm`` is
    an XML Signature fragment such as ``rsa-sha256`` or ``rsa-sha1``; the
    digest uses the same hash.
    """
    method = SignatureMethod.from_fragment(algorithm)
    digest = DigestAlgorithm.from_fragment(method.name.rsplit("_", 1)[-1].lower())
    unsigned = etree.fromstring(etree.tostring(assertion))
    issuer = unsigned.find(_q(SAML2, "Issuer"))
    placeholder = etree.Element(_q(DS, "Signature"), nsmap={"ds": DS}, Id="placeholder")
    if issuer is not None:
        issuer.addnext(placeholder)
    else:
        unsigned.insert(0, placeholder)
    signer = _Signer(
        signature_algorithm=method,
        digest_algorithm=digest,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    return signer.sign(
        unsigned,
        key=key_pem,
        cert=cert_pem.decode() if isinstance(cert_pem, bytes) else cert_pem,
        reference_uri="#" + unsigned.get("ID", ""),
        id_attribute="ID",
    )


# --------------------------------------------------------------------------
# Verifying
# --------------------------------------------------------------------------

def _children(parent: etree._Element, namespace: str, name: str) -> list[etree._Element]:
    return [child for child in parent if child.tag == _q(namespace, name)]


def _find_assertion(security_header: etree._Element | None) -> etree._Element:
    if security_header is None:
        raise _invalid(
            "the request has no WS-Security header: a VIHF (signed SAML 2.0 assertion) is required "
            "in soap:Header/wsse:Security"
        )
    if security_header.tag != _q(WSSE, "Security"):
        raise _invalid("the VIHF must be in a wsse:Security header block")
    assertions = _children(security_header, SAML2, "Assertion")
    if not assertions:
        raise _invalid("the wsse:Security header holds no SAML 2.0 assertion: a VIHF is required")
    if len(assertions) > 1:
        # There is no telling which one the client meant, and a second
        # assertion is the classic setting of a signature-wrapping attack.
        raise _invalid(f"the wsse:Security header holds {len(assertions)} SAML 2.0 assertions; one VIHF is expected")
    return assertions[0]


def _check_signed_info(signature: etree._Element, assertion_id: str) -> None:
    """Refuse, before any cryptography, signatures not shaped as SAML 2.0 core §5.4 requires.

    Only a refusal is decided on this (still unverified) SignedInfo: signxml
    checks the algorithms again on the verified one.
    """
    signed_info = signature.find(_q(DS, "SignedInfo"))
    if signed_info is None:
        raise _invalid("the VIHF signature has no ds:SignedInfo")
    method = signed_info.find(_q(DS, "SignatureMethod"))
    algorithm = method.get("Algorithm", "") if method is not None else ""
    if algorithm not in {m.value for m in _SIGNATURE_METHODS}:
        raise _failed(
            f"the VIHF is signed with the algorithm {algorithm or '(none)'}, which this gateway does not accept; "
            f"sign with RSA-SHA256 ({SignatureMethod.RSA_SHA256.value})"
        )
    c14n = signed_info.find(_q(DS, "CanonicalizationMethod"))
    if c14n is None or c14n.get("Algorithm") not in _C14N_METHODS:
        raise _invalid("the VIHF signature must use exclusive canonicalization (http://www.w3.org/2001/10/xml-exc-c14n#)")
    references = _children(signed_info, DS, "Reference")
    if len(references) != 1 or references[0].get("URI") != f"#{assertion_id}":
        raise _failed("the VIHF signature must cover the assertion itself: one Reference to #" + assertion_id)
    transforms = references[0].find(_q(DS, "Transforms"))
    for transform in (transforms if transforms is not None else ()):
        if isinstance(transform.tag, str) and transform.get("Algorithm") not in _TRANSFORMS:
            raise _invalid(
                "the VIHF signature may only use the enveloped-signature and exclusive c14n transforms"
            )
    digest = references[0].find(_q(DS, "DigestMethod"))
    if digest is None or digest.get("Algorithm") not in {d.value for d in _DIGEST_METHODS}:
        raise _failed("the VIHF signature's digest must be SHA-256 (or SHA-1)")


def _signing_certificates(signature: etree._Element) -> tuple[x509.Certificate, tuple[x509.Certificate, ...]]:
    """The signing certificate from ds:KeyInfo/ds:X509Data, and the other (intermediate) ones."""
    texts = [
        "".join(cert.text.split()) if cert.text else ""
        for cert in signature.iterfind(f"{_q(DS, 'KeyInfo')}/{_q(DS, 'X509Data')}/{_q(DS, 'X509Certificate')}")
    ]
    if not texts:
        raise _invalid("the VIHF signature's ds:KeyInfo must carry the signing certificate (ds:X509Certificate)")
    certificates = []
    for text in texts:
        try:
            certificates.append(x509.load_der_x509_certificate(_b64decode(text)))
        except ValueError:
            raise _invalid("the VIHF signature carries a ds:X509Certificate that is not a certificate") from None
    # XML Signature does not order X509Data; the signing certificate is the
    # one that is not a CA (the first one if all are).
    leaf = next((c for c in certificates if not _is_ca(c)), certificates[0])
    return leaf, tuple(c for c in certificates if c is not leaf)


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError("not base64") from None


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _verified_assertion(
    assertion: etree._Element, trust: TrustStore, now: datetime
) -> etree._Element:
    """Check the signature; return the signed assertion as signxml verified it (never the input)."""
    assertion_id = assertion.get("ID")
    if not assertion_id:
        raise _invalid("the VIHF assertion has no ID attribute")
    signatures = _children(assertion, DS, "Signature")
    if not signatures:
        raise _invalid("the VIHF is not signed: it must carry an enveloped ds:Signature of the assertion")
    if len(signatures) > 1:
        raise _invalid("the VIHF carries more than one ds:Signature")
    signature = signatures[0]
    _check_signed_info(signature, assertion_id)
    leaf, intermediates = _signing_certificates(signature)
    try:
        trust.verify(leaf, intermediates, at=now)
    except CertificateRejected as exc:
        raise _failed(f"the VIHF signature is not trusted: {exc.reason}") from None

    config = {
        "location": "./",  # the Signature must be a child of the assertion (enveloped)
        "expect_references": 1,
        "signature_methods": _SIGNATURE_METHODS,
        "digest_algorithms": _DIGEST_METHODS,
    }
    if "verification_time" in SignatureConfiguration.__dataclass_fields__:  # signxml 4+
        config["verification_time"] = now
    try:
        result = XMLVerifier().verify(
            # Bytes, not the element: signxml would serialize its tail too. The
            # in-scope namespace declarations of the SOAP envelope come along.
            etree.tostring(assertion, with_tail=False),
            x509_cert=leaf,
            id_attribute="ID",
            # Not against the XML Signature schema: its strict wildcard refuses the
            # ec:InclusiveNamespaces that OpenSAML-based software puts in
            # SignedInfo/CanonicalizationMethod.  _check_signed_info has checked the shape.
            validate_schema=False,
            expect_config=SignatureConfiguration(**config),
        )
    except InvalidSignature as exc:  # includes a digest mismatch and certificate problems
        raise _failed(
            "the VIHF signature is not valid: the assertion was altered after it was signed, "
            "or signed with another key",
            str(exc),
        ) from None
    except (InvalidInput, SignXMLException, etree.DocumentInvalid, ValueError) as exc:
        raise _invalid("the VIHF signature is malformed", str(exc)) from None

    signed = result.signed_xml
    # The element read from now on must be the one the signature covers
    # (XML Signature Best Practices §2.1.1, "see what is signed"): the
    # assertion itself, not some other element with a matching ID elsewhere.
    if signed is None or signed.tag != _q(SAML2, "Assertion") or signed.get("ID") != assertion_id:
        raise _failed("the VIHF signature does not cover the assertion")
    return signed


def _parse_instant(value: str | None, what: str) -> datetime | None:
    if value is None:
        return None
    text = value.strip()
    # Python before 3.12 reads at most 6 fractional digits; xs:dateTime allows more.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _invalid(f"the VIHF's {what} is not an xs:dateTime: {value!r}") from None
    # SAML 2.0 core §1.3.3: times are UTC; one without a zone is read as such.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _check_times(assertion: etree._Element, now: datetime, skew: timedelta) -> None:
    issued = _parse_instant(assertion.get("IssueInstant"), "IssueInstant")
    if issued is None:
        raise _invalid("the VIHF assertion has no IssueInstant")
    if issued > now + skew:
        raise _failed(f"the VIHF is issued in the future ({_instant(issued)})")
    for conditions in _children(assertion, SAML2, "Conditions"):
        not_before = _parse_instant(conditions.get("NotBefore"), "NotBefore")
        not_after = _parse_instant(conditions.get("NotOnOrAfter"), "NotOnOrAfter")
        # SAML 2.0 core §2.5.1.2, with some tolerance for the clocks' drift.
        if not_before is not None and now + skew < not_before:
            raise _failed(f"the VIHF is not valid before {_instant(not_before)}")
        if not_after is not None and now - skew >= not_after:
            raise _failed(f"the VIHF expired at {_instant(not_after)}")


def _attributes(assertion: etree._Element) -> dict[str, list[etree._Element]]:
    """AttributeValue elements by attribute name (known names normalised), over all statements."""
    found: dict[str, list[etree._Element]] = {}
    seen: set[str] = set()
    for statement in _children(assertion, SAML2, "AttributeStatement"):
        for attribute in _children(statement, SAML2, "Attribute"):
            raw = (attribute.get("Name") or "").strip()
            if not raw:
                raise _invalid("a VIHF attribute has no Name")
            name = _KNOWN.get(raw.lower(), raw)
            if name in seen and name != ROLE:
                # Roles may come as several attributes; anything else twice is ambiguous.
                raise _invalid(f"the VIHF attribute {name} appears more than once")
            seen.add(name)
            found.setdefault(name, []).extend(_children(attribute, SAML2, "AttributeValue"))
    return found


def _value_text(value: etree._Element, name: str) -> str:
    if len(value):
        raise _invalid(f"the VIHF attribute {name} must hold text, not XML")
    return (value.text or "").strip()


def _single_text(values: list[etree._Element] | None, name: str) -> str:
    if not values:
        return ""
    if len(values) > 1:
        raise _invalid(f"the VIHF attribute {name} has {len(values)} values; one is expected")
    return _value_text(values[0], name)


def _coded(value: etree._Element, name: str) -> Code:
    """An HL7 CE element as IHE XUA writes it in an AttributeValue (any prefix, hl7 namespace or none)."""
    elements = [child for child in value if isinstance(child.tag, str)]
    if len(elements) != 1 or etree.QName(elements[0]).namespace not in (HL7, None):
        raise _invalid(f"each value of the VIHF attribute {name} must be one HL7 CE element (urn:hl7-org:v3)")
    ce = elements[0]
    code, system = (ce.get("code") or "").strip(), (ce.get("codeSystem") or "").strip()
    if not code or not system:
        raise _invalid(f"a value of the VIHF attribute {name} lacks its code or codeSystem")
    return Code(code, system, (ce.get("displayName") or "").strip() or None)


def _other_value(value: etree._Element) -> str:
    """An attribute value the model does not name, as text for the traces (a CE as code^display^system)."""
    elements = [child for child in value if isinstance(child.tag, str)]
    if elements:
        ce = elements[0]
        return f"{ce.get('code', '')}^{ce.get('displayName', '')}^{ce.get('codeSystem', '')}"
    return (value.text or "").strip()


def _kind(roles: tuple[Code, ...]) -> ActorKind:
    """The kind of caller, from the first role (the VIHF's profession, or non-PS category)."""
    first = roles[0]
    if first.scheme != NON_PS_PRODUCER_SYSTEM:
        # Only TRE_A00 codes name non-professionals: a profession code "PATIENT" elsewhere is a profession.
        return ActorKind.PROFESSIONAL
    if first.code.upper() == "AUTOMATE":
        # Never SYSTEM: a signed assertion may not claim the unrestricted access of the gateway's stand-ins.
        return ActorKind.SOFTWARE
    return _KIND_BY_ROLE_CODE.get(first.code.upper(), ActorKind.PROFESSIONAL)


def _actor(assertion: etree._Element) -> Actor:
    subject = _children(assertion, SAML2, "Subject")
    name_ids = _children(subject[0], SAML2, "NameID") if len(subject) == 1 else []
    if len(name_ids) != 1 or not _value_text(name_ids[0], "Subject/NameID"):
        raise _invalid("the VIHF lacks the mandatory Subject/NameID (the user's national id)")
    actor_id = _value_text(name_ids[0], "Subject/NameID")

    attributes = _attributes(assertion)
    for name in MANDATORY_ATTRIBUTES:
        values = attributes.get(name)
        if not values or (name not in (ROLE, PURPOSE_OF_USE) and not _single_text(values, name)):
            raise _invalid(f"the VIHF lacks the mandatory attribute {name}")

    version = _single_text(attributes[VIHF_VERSION], VIHF_VERSION)
    if version not in ACCEPTED_VERSIONS:
        raise _invalid(f"VIHF_Version {version!r} is not supported (expected one of: {', '.join(sorted(ACCEPTED_VERSIONS))})")

    roles = tuple(_coded(value, ROLE) for value in attributes[ROLE])
    purposes = attributes[PURPOSE_OF_USE]
    if len(purposes) != 1:
        raise _invalid(f"the VIHF attribute {PURPOSE_OF_USE} has {len(purposes)} values; one is expected")
    purpose = _coded(purposes[0], PURPOSE_OF_USE)
    modes = ", ".join(m.value for m in AccessMode)
    if purpose.scheme != ACCESS_MODE_SYSTEM or purpose.code not in {m.value for m in AccessMode}:
        raise _invalid(
            f"the VIHF access mode ({PURPOSE_OF_USE}) must be one of {modes} "
            f"in the code system {ACCESS_MODE_SYSTEM}, not {purpose.code!r} ({purpose.scheme})"
        )
    patient = _single_text(attributes[RESOURCE_ID], RESOURCE_ID)
    if not _CX.fullmatch(patient):
        raise _invalid(
            f"the VIHF attribute {RESOURCE_ID} must be the patient's INS as CX "
            f"(e.g. NIR^^^&1.2.250.1.213.1.4.8&ISO^NH), not {patient!r}"
        )

    named = {*MANDATORY_ATTRIBUTES, LPS_ID_HOMOLOGATION_DMP}
    other = {
        name: tuple(_other_value(value) for value in values)
        for name, values in attributes.items()
        if name not in named
    }
    return Actor(
        id=actor_id,
        name=_single_text(attributes[SUBJECT_ID], SUBJECT_ID),
        kind=_kind(roles),
        roles=roles,
        structure_id=_single_text(attributes[IDENTIFIANT_STRUCTURE], IDENTIFIANT_STRUCTURE),
        activity_sector=_single_text(attributes[SECTEUR_ACTIVITE], SECTEUR_ACTIVITE),
        access_mode=AccessMode(purpose.code),
        patient_id=patient,
        resource_urn=_single_text(attributes[RESSOURCE_URN], RESSOURCE_URN),
        authentication_mode=_single_text(attributes[AUTHENTIFICATION_MODE], AUTHENTIFICATION_MODE),
        software_name=_single_text(attributes[LPS_NOM], LPS_NOM),
        software_version=_single_text(attributes[LPS_VERSION], LPS_VERSION),
        software_approval=_single_text(attributes.get(LPS_ID_HOMOLOGATION_DMP), LPS_ID_HOMOLOGATION_DMP),
        other=other,
    )


def vihf_not_on_or_after(security_header: etree._Element) -> datetime | None:
    """The earliest ``Conditions/@NotOnOrAfter`` of the VIHF in ``security_header``, None when it sets none.

    Meant for a VIHF :func:`verify_vihf` accepted: its Conditions are covered by the signature.
    """
    assertion = _find_assertion(security_header)
    ends = [
        _parse_instant(conditions.get("NotOnOrAfter"), "NotOnOrAfter")
        for conditions in _children(assertion, SAML2, "Conditions")
    ]
    return min((end for end in ends if end is not None), default=None)


def verify_vihf(
    security_header: etree._Element | None,
    trust: TrustStore,
    *,
    now: datetime,
    clock_skew: timedelta = timedelta(minutes=5),
) -> Actor:
    """Verify the VIHF in a ``wsse:Security`` header block and return the caller it describes.

    ``security_header`` is the ``wsse:Security`` element of the request's
    SOAP header (None when there is none); it comes from a document parsed
    by :func:`gateway.safexml.parse_xml`.  ``now`` (timezone-aware) is the
    time of the check; ``clock_skew`` the tolerance on the assertion's
    times.  The checks, in order:

    1. exactly one ``saml2:Assertion`` child of ``wsse:Security``
       (WS-Security SAML Token Profile 1.1 §3.4.2), with an ID;
    2. one enveloped ``ds:Signature`` child of it whose single Reference is
       ``#<ID>``, exclusive c14n, RSA-SHA256 or RSA-SHA1 (SAML 2.0 core §5.4);
    3. the signing certificate (ds:KeyInfo/ds:X509Data) chains to the trust
       store and is valid at ``now``;
    4. the signature and digest are correct (signxml), and everything after
       is read from the element signxml verified, never from the input;
    5. IssueInstant not in the future, Conditions NotBefore / NotOnOrAfter
       (SAML 2.0 core §2.5.1.2) when present, with ``clock_skew``;
    6. the Subject's NameID and :data:`MANDATORY_ATTRIBUTES` are present,
       VIHF_Version is 3.0 or 4.0, the access mode is one of
       :class:`AccessMode` in system 1.2.250.1.213.1.1.4.248, the patient a
       CX with an ISO assigning authority.

    The first role decides :attr:`Actor.kind`: AUTOMATE (TRE_A00,
    1.2.250.1.213.1.1.4.6) is SOFTWARE, PATIENT a PATIENT and
    REPRESENTANT_LEGAL a LEGAL_REPRESENTATIVE (gateway conventions), any
    other a PROFESSIONAL.  Attributes the model does not name (LPS_ID, the
    confidentiality code, …) are kept in :attr:`Actor.other`.

    Raises :class:`VihfRejected`.  Versions 3.0 and 4.0 are read alike: the
    published 4.0 attribute list uses the same names and encodings.
    """
    if now.tzinfo is None:
        raise ValueError("verify_vihf needs a timezone-aware 'now'")
    assertion = _find_assertion(security_header)
    if assertion.get("Version") != "2.0":
        raise _invalid("the VIHF must be a SAML 2.0 assertion (Version=\"2.0\")")
    signed = _verified_assertion(assertion, trust, now)
    _check_times(signed, now, clock_skew)
    return _actor(signed)

