"""A small synthetic CDA R2 document, header section by header section, for the CDA tests.

Every value is fictitious. Each keyword of :func:`cda` replaces one section of
the header (an XML snippet; ``""`` removes it), in the order the CDA R2
schema requires, so a test changes exactly what it is about. The defaults
validate against ``CDA_extended.xsd`` (see ``test_reader``).
"""

from __future__ import annotations

PATIENT_INS = "282079912345639"  # test NIR, valid key
PATIENT_IPP = "IPP-0042"
IPP_ROOT = "1.2.250.1.999.2"
AUTHOR_RPPS = "810001234567"
LEGAL_RPPS = "810007654321"
FINESS = "1750000001"
DOCUMENT_ROOT = "1.2.250.1.999.1.2025.7"

SECTIONS = {
    "id": f'<id root="{DOCUMENT_ROOT}" extension="CR-0001"/>',
    "code": '<code code="11488-4" codeSystem="2.16.840.1.113883.6.1" displayName="Note de consultation"/>',
    "title": "<title>Compte rendu de consultation</title>",
    "effective_time": '<effectiveTime value="20250312143000+0100"/>',
    "confidentiality": '<confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25" displayName="Normal"/>',
    "language": '<languageCode code="fr-FR"/>',
    "set_id": f'<setId root="{DOCUMENT_ROOT}" extension="SET-0001"/><versionNumber value="1"/>',
    "record_target": f"""<recordTarget><patientRole>
      <id root="1.2.250.1.213.1.4.10" extension="{PATIENT_INS}"/>
      <id root="{IPP_ROOT}" extension="{PATIENT_IPP}"/>
      <patient>
        <name><family qualifier="BR">MARTIN</family><given>Louise Anne</given><given qualifier="BR">Louise</given>
          <family qualifier="CL">DURAND</family><given qualifier="CL">Louise</given></name>
        <administrativeGenderCode code="F" codeSystem="2.16.840.1.113883.5.1"/>
        <birthTime value="19820715"/>
      </patient></patientRole></recordTarget>""",
    "authors": f"""<author>
      <functionCode code="PCP" codeSystem="2.16.840.1.113883.5.88" displayName="Médecin traitant"/>
      <time value="20250312143000+0100"/>
      <assignedAuthor>
        <id root="1.2.250.1.71.4.2.1" extension="{AUTHOR_RPPS}"/>
        <code code="G15_10/SM26" codeSystem="1.2.250.1.213.1.1.4.5"
              displayName="Médecin - Qualifié en Médecine Générale (SM)"/>
        <assignedPerson><name><prefix>MME</prefix><given>Claire</given><family>LEROY</family><suffix>DR</suffix></name>
        </assignedPerson>
        <representedOrganization><id root="1.2.250.1.71.4.2.2" extension="{FINESS}"/>
          <name>Centre médical A &amp; B</name></representedOrganization>
      </assignedAuthor></author>""",
    "custodian": f"""<custodian><assignedCustodian><representedCustodianOrganization>
      <id root="1.2.250.1.71.4.2.2" extension="{FINESS}"/></representedCustodianOrganization>
      </assignedCustodian></custodian>""",
    "legal_authenticator": f"""<legalAuthenticator><time value="20250312150000+0100"/><signatureCode code="S"/>
      <assignedEntity><id root="1.2.250.1.71.4.2.1" extension="{LEGAL_RPPS}"/>
        <assignedPerson><name><given>Paul</given><family>BERNARD</family></name></assignedPerson>
      </assignedEntity></legalAuthenticator>""",
    "documentation_of": f"""<documentationOf><serviceEvent>
      <code code="CS" codeSystem="1.2.250.1.215.200.3.3" displayName="Consultation"/>
      <effectiveTime><low value="20250312140000+0100"/><high value="20250312142500+0100"/></effectiveTime>
      <performer typeCode="PRF"><assignedEntity><id root="1.2.250.1.71.4.2.1" extension="{AUTHOR_RPPS}"/>
        <representedOrganization><standardIndustryClassCode code="AMBULATOIRE" codeSystem="1.2.250.1.213.1.1.4.9"
          displayName="Ambulatoire"/></representedOrganization>
      </assignedEntity></performer></serviceEvent></documentationOf>""",
    "related_document": "",
    "component_of": """<componentOf><encompassingEncounter>
      <effectiveTime><low value="20250312140000+0100"/></effectiveTime>
      <location><healthCareFacility><code code="SA07" codeSystem="1.2.250.1.71.4.2.4"
        displayName="Cabinet individuel"/></healthCareFacility></location>
      </encompassingEncounter></componentOf>""",
    "body": """<component><structuredBody><component><section>
      <code code="29545-1" codeSystem="2.16.840.1.113883.6.1"/><title>Examen</title>
      <text>Examen clinique normal.</text></section></component></structuredBody></component>""",
}


def cda(**sections: str) -> bytes:
    """The synthetic document with ``sections`` replaced (names as in :data:`SECTIONS`)."""
    unknown = set(sections) - set(SECTIONS)
    assert not unknown, f"unknown sections {unknown}"
    parts = {**SECTIONS, **sections}
    header = "\n  ".join(parts[name] for name in SECTIONS)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ClinicalDocument xmlns="urn:hl7-org:v3">\n'
        '  <realmCode code="FR"/>\n'
        '  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>\n'
        '  <templateId root="1.2.250.1.213.1.1.1.1"/>\n'
        f"  {header}\n"
        "</ClinicalDocument>\n"
    ).encode("utf-8")


def replace(data: bytes, old: str, new: str, count: int = 1) -> bytes:
    """``data`` with ``old`` replaced by ``new``; fails when ``old`` is not there ``count`` times at least."""
    needle = old.encode("utf-8")
    assert data.count(needle) >= count, f"{old!r} occurs {data.count(needle)} times, expected {count}"
    return data.replace(needle, new.encode("utf-8"), count)
