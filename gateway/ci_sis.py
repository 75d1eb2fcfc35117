"""The French profile assembled: CI-SIS metadata rules, value sets, and CDA ⇄ metadata checks.

Under ``XDSGW_PROFILE=ci-sis`` every submission (ITI-42 and ITI-41) is held
to the rules of the CI-SIS "Volet Partage de Documents de Santé"
(:mod:`gateway.validation.ci_sis`) with the value sets shipped in
``profiles/ci-sis/valuesets``, and each CDA document provided by ITI-41 is
read and compared with its own DocumentEntry (:mod:`gateway.cda`), as the
DMP does for Ségur-certified software.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from .cda import check_cda_against_metadata, document_entry_from_cda, load_cda_schema, read_cda
from .cda.header import ClinicalDocumentHeader
from .metadata import AssociationType, Code, DocumentEntry, Submission
from .metadata.repository import Buffer
from .repository.provide_and_register import DocumentCheck, RegisteredObjects
from .validation.ci_sis import CI_SIS_PATIENT_ID_TYPES, NON_CDA_FORMATS, check_ci_sis, missing_value_sets
from .validation.findings import ErrorCode, Finding, error
from .validation.profile import MetadataProfile
from .valuesets import ValueSets
from .valuesets.files import ci_sis_value_sets

#: mimeTypes of CDA R2 documents: plain, and auto-présentable (CI-SIS).
CDA_MIME_TYPES = frozenset({"text/xml", "application/xslt+xml"})

CLASS_OF_TYPE = "ASS_X04_TypeCode_ClassCode"
FORMAT_OF_MODEL = "ASS_A11_ModeleCDA_FormatCode"
FORMAT_OF_MEDIA_TYPE = "ASS_A12_NonXMLBody_FormatCode"


def metadata_profile(value_sets: ValueSets | None = None) -> MetadataProfile:
    """The CI-SIS rules on top of IHE's, with the INS ``^NH`` (and local ``^PI``) patient ids they call for."""
    sets = value_sets if value_sets is not None else ci_sis_value_sets()
    missing = missing_value_sets(sets)
    if missing:
        # Refuse to start rather than answer every submission with XDSRegistryError.
        raise ValueError(f"the CI-SIS profile needs value sets that are not loaded: {', '.join(missing)}")
    return MetadataProfile(
        "ci-sis",
        patient_id_types=CI_SIS_PATIENT_ID_TYPES,
        rules=lambda submission, code: check_ci_sis(submission, sets, code),
    )


def derived_codes(header: ClinicalDocumentHeader, value_sets: ValueSets) -> tuple[Code | None, Code | None]:
    """classCode (ASS_X04 from the typeCode) and formatCode (ASS_A11 from the CDA model's templateId,
    or ASS_A12 from a non-structured body's mediaType), as the CI-SIS correspondence tables give them."""
    class_code = None
    if header.code is not None:
        concept = value_sets.table(CLASS_OF_TYPE).get(header.code.code)
        if concept is not None:
            class_code = Code(concept.code, concept.system, concept.display or None)
    format_code = None
    media_type = getattr(header.body, "media_type", None) if header.body is not None else None
    if media_type:
        concept = value_sets.table(FORMAT_OF_MEDIA_TYPE).get(media_type)
        if concept is not None:
            format_code = Code(concept.code, concept.system, concept.display or None)
    if format_code is None:
        # The model's own templateId is the last one declared; earlier ones are
        # HL7 France, CI-SIS and IHE conformance declarations.
        for template in reversed(header.template_ids):
            concept = value_sets.table(FORMAT_OF_MODEL).get(template.root)
            if concept is not None:
                format_code = Code(concept.code, concept.system, concept.display or None)
                break
    return class_code, format_code


def document_entry_from(data: Buffer, *, value_sets: ValueSets | None = None, entry_id: str = "Document01",
                        schema: etree.XMLSchema | None = None) -> tuple[DocumentEntry | None, list[Finding]]:
    """The DocumentEntry a CDA document implies (``xds-gateway metadata from-cda``), with classCode and formatCode."""
    sets = value_sets if value_sets is not None else ci_sis_value_sets()
    read = read_cda(data, schema=schema)
    if read.header is None:
        return None, read.findings
    class_code, format_code = derived_codes(read.header, sets)
    entry = document_entry_from_cda(read.header, entry_id=entry_id, class_code=class_code, format_code=format_code)
    return entry, read.findings


class CdaDocumentCheck:
    """ITI-41 under the CI-SIS: each CDA document is read (and validated against the CDA schema when
    one is configured) and compared with its DocumentEntry; every mismatch is an
    XDSRepositoryMetadataError naming the header element and the attribute.

    The formatCode must be the one the correspondence tables give for the CDA's model, when they
    know it. A replacement's ``relatedDocument/parentDocument/id`` must be the uniqueId of the
    document it replaces, read from the registry.
    """

    def __init__(self, value_sets: ValueSets, *, schema_path: str | Path | None = None) -> None:
        self.value_sets = value_sets
        self.schema = load_cda_schema(schema_path) if schema_path else None

    def __call__(
        self, entry: DocumentEntry, data: Buffer, submission: Submission,
        registered: RegisteredObjects = lambda uuids: {},
    ) -> list[Finding]:
        """Findings about ``entry``'s document; ``registered`` looks up registered objects as the
        depositor may see them (a replaced document hidden from them is not found: the registry then
        reports the replacement's target as unknown, and nothing here names it)."""
        media_type = (entry.mime_type or "").split(";", 1)[0].strip().lower()
        if media_type not in CDA_MIME_TYPES:
            return []
        code = ErrorCode.REPOSITORY_METADATA_ERROR
        read = read_cda(data, schema=self.schema, code=code, location=entry.entry_uuid)
        if read.header is None:
            if entry.format_code is not None and entry.format_code.code in NON_CDA_FORMATS:
                # XML that is not a CDA, as its format says (a DSG signature, a stylesheet).
                # The content decides, not the claim: a CDA under such a format is checked.
                return []
            return read.findings
        findings = list(read.findings)
        replaced_unique_id, replacement_type = self._replaced(entry, submission, registered)
        findings += check_cda_against_metadata(
            read.header, entry, code=code, replaced_unique_id=replaced_unique_id, replacement_type=replacement_type
        )
        _, format_code = derived_codes(read.header, self.value_sets)
        if format_code is not None and entry.format_code is not None and (
            (entry.format_code.code, entry.format_code.scheme) != (format_code.code, format_code.scheme)
        ):
            findings.append(error(
                code,
                f"DocumentEntry {entry.entry_uuid}: formatCode '{entry.format_code.code}' "
                f"(codingScheme {entry.format_code.scheme}) differs from '{format_code.code}' "
                f"(codingScheme {format_code.scheme}), the format the CI-SIS gives for the CDA's model "
                f"(ClinicalDocument/templateId, or nonXMLBody/text/@mediaType; tables {FORMAT_OF_MODEL}, "
                f"{FORMAT_OF_MEDIA_TYPE})",
                entry.entry_uuid,
            ))
        return findings

    @staticmethod
    def _replaced(
        entry: DocumentEntry, submission: Submission, registered: RegisteredObjects
    ) -> tuple[str | None, AssociationType | None]:
        """The uniqueId of the document this entry replaces (RPLC or XFRM_RPLC), and the association type."""
        replacing = [
            a for a in submission.associations
            if a.source == entry.entry_uuid and a.association_type is not None and a.association_type.replaces
        ]
        if not replacing:
            return None, None
        replaced = registered([replacing[0].target]).get(replacing[0].target)
        # An unknown target is the registry's to report (UnresolvedReferenceException).
        return getattr(replaced, "unique_id", None), replacing[0].association_type


def document_check(*, value_sets: ValueSets | None = None, schema_path: str | Path | None = None) -> DocumentCheck:
    return CdaDocumentCheck(value_sets if value_sets is not None else ci_sis_value_sets(), schema_path=schema_path)


__all__ = ["CDA_MIME_TYPES", "CdaDocumentCheck", "derived_codes", "document_check", "document_entry_from",
           "metadata_profile"]
