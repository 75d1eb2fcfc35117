"""The registry tables (SQLAlchemy 2 typed declarative mapping).

Each XDS object is one row whose ``payload`` holds the whole object (see
``serialize``); the other columns copy, once at registration, exactly what
the Registry Stored Query filters on (ITI TF-2 §3.18.4.1.2.3.7) so that a
FindDocuments over millions of entries is an index lookup:

- ``patient_id`` and ``availability_status`` lead the composite indexes
  because every Find* query requires the patient and a status list;
- multi-valued codes (confidentiality, event, and the single codes again) sit
  in ``document_entry_codes`` so that the AND/OR semantics of code parameters
  (ITI-18 multi-valued parameters) become joins on an indexed table;
- times are ``DTM.lower()`` 14-digit strings, which compare as strings; the
  submitted precision stays in the payload.

Statuses are stored by their short name ("Approved", "Deprecated",
"Submitted") to keep the indexes small. ``gateway/store/migrations`` creates
exactly these tables; a test checks that they agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, Integer, MetaData, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: JSONB on PostgreSQL (binary, indexable later if needed), JSON text elsewhere.
PAYLOAD_TYPE = JSON().with_variant(JSONB(), "postgresql")
#: 64-bit keys: the code table alone grows by ~10 rows per document. SQLite
#: only auto-increments an ``INTEGER PRIMARY KEY``, hence the variant.
KEY_TYPE = BigInteger().with_variant(Integer(), "sqlite")
#: Short status names and SubmissionSetStatus values.
SHORT = String(16)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: PAYLOAD_TYPE, str: String(), int: Integer()}


def _key() -> Mapped[int]:
    return mapped_column(KEY_TYPE, primary_key=True, autoincrement=True)


def _parent(target: str) -> Mapped[int]:
    # Child rows go with their object; the registry never deletes, but a
    # future ITI-62 (Delete Document Set) would.
    return mapped_column(KEY_TYPE, ForeignKey(target, ondelete="CASCADE"), nullable=False)


class DocumentEntryRow(Base):
    """A DocumentEntry (ITI TF-3 §4.2.3.2), one row per version (ITI-57)."""

    __tablename__ = "document_entries"

    id: Mapped[int] = _key()
    entry_uuid: Mapped[str]
    logical_id: Mapped[str]
    version: Mapped[int]
    unique_id: Mapped[str | None]
    patient_id: Mapped[str | None]
    availability_status: Mapped[str] = mapped_column(SHORT)
    object_type: Mapped[str]
    class_code: Mapped[str | None]
    class_scheme: Mapped[str | None]
    type_code: Mapped[str | None]
    type_scheme: Mapped[str | None]
    format_code: Mapped[str | None]
    format_scheme: Mapped[str | None]
    practice_setting_code: Mapped[str | None]
    practice_setting_scheme: Mapped[str | None]
    healthcare_facility_type_code: Mapped[str | None]
    healthcare_facility_type_scheme: Mapped[str | None]
    creation_time: Mapped[str | None] = mapped_column(String(14))
    service_start_time: Mapped[str | None] = mapped_column(String(14))
    service_stop_time: Mapped[str | None] = mapped_column(String(14))
    repository_unique_id: Mapped[str | None]
    hash: Mapped[str | None]
    size: Mapped[int | None] = mapped_column(BigInteger)
    home_community_id: Mapped[str | None]
    payload: Mapped[dict[str, Any]]

    __table_args__ = (
        Index("ux_document_entries_entry_uuid", "entry_uuid", unique=True),
        # ITI-57 keeps the uniqueId across versions: unique per version only.
        Index("ux_document_entries_unique_id_version", "unique_id", "version", unique=True),
        Index("ix_document_entries_unique_id", "unique_id"),
        Index("ix_document_entries_logical_id", "logical_id"),
        Index("ix_document_entries_patient_status_creation", "patient_id", "availability_status", "creation_time"),
        Index("ix_document_entries_patient_status_start", "patient_id", "availability_status", "service_start_time"),
        Index("ix_document_entries_patient_status_stop", "patient_id", "availability_status", "service_stop_time"),
        Index("ix_document_entries_patient_class", "patient_id", "class_code"),
        Index("ix_document_entries_patient_type", "patient_id", "type_code"),
        Index("ix_document_entries_patient_format", "patient_id", "format_code"),
        Index("ix_document_entries_repository", "repository_unique_id"),
    )


class DocumentEntryCodeRow(Base):
    """One code of a document, for code parameters of FindDocuments (ITI TF-2 §3.18.4.1.2.3.7.1)."""

    __tablename__ = "document_entry_codes"

    id: Mapped[int] = _key()
    document_id: Mapped[int] = _parent("document_entries.id")
    #: The XDS attribute name: confidentialityCode, eventCodeList, classCode, …
    attribute: Mapped[str] = mapped_column(String(32))
    code: Mapped[str]
    scheme: Mapped[str]

    __table_args__ = (
        Index("ix_document_entry_codes_attribute_code_scheme", "attribute", "code", "scheme"),
        Index("ix_document_entry_codes_document_id", "document_id"),
    )


class DocumentEntryAuthorRow(Base):
    """An authorPerson of a document (ITI TF-2 §3.18.4.1.2.3.7.1, $XDSDocumentEntryAuthorPerson)."""

    __tablename__ = "document_entry_authors"

    id: Mapped[int] = _key()
    document_id: Mapped[int] = _parent("document_entries.id")
    person: Mapped[str]

    __table_args__ = (
        Index("ix_document_entry_authors_person", "person"),
        Index("ix_document_entry_authors_document_id", "document_id"),
    )


class DocumentEntryReferenceIdRow(Base):
    """A referenceIdList value (ITI TF-3 §4.2.3.2.28), for FindDocumentsByReferenceId."""

    __tablename__ = "document_entry_reference_ids"

    id: Mapped[int] = _key()
    document_id: Mapped[int] = _parent("document_entries.id")
    reference_id: Mapped[str]

    __table_args__ = (
        Index("ix_document_entry_reference_ids_reference_id", "reference_id"),
        Index("ix_document_entry_reference_ids_document_id", "document_id"),
    )


class SubmissionSetRow(Base):
    """A SubmissionSet (ITI TF-3 §4.2.3.3), for FindSubmissionSets."""

    __tablename__ = "submission_sets"

    id: Mapped[int] = _key()
    entry_uuid: Mapped[str]
    unique_id: Mapped[str | None]
    patient_id: Mapped[str | None]
    availability_status: Mapped[str] = mapped_column(SHORT)
    source_id: Mapped[str | None]
    submission_time: Mapped[str | None] = mapped_column(String(14))
    content_type_code: Mapped[str | None]
    content_type_scheme: Mapped[str | None]
    payload: Mapped[dict[str, Any]]

    __table_args__ = (
        Index("ux_submission_sets_entry_uuid", "entry_uuid", unique=True),
        Index("ux_submission_sets_unique_id", "unique_id", unique=True),
        Index("ix_submission_sets_patient_submission_time", "patient_id", "submission_time"),
        Index("ix_submission_sets_source_id", "source_id"),
    )


class SubmissionSetAuthorRow(Base):
    """An authorPerson of a submission set ($XDSSubmissionSetAuthorPerson)."""

    __tablename__ = "submission_set_authors"

    id: Mapped[int] = _key()
    submission_set_id: Mapped[int] = _parent("submission_sets.id")
    person: Mapped[str]

    __table_args__ = (
        Index("ix_submission_set_authors_person", "person"),
        Index("ix_submission_set_authors_submission_set_id", "submission_set_id"),
    )


class FolderRow(Base):
    """A Folder (ITI TF-3 §4.2.3.4), one row per version (ITI-57)."""

    __tablename__ = "folders"

    id: Mapped[int] = _key()
    entry_uuid: Mapped[str]
    logical_id: Mapped[str]
    version: Mapped[int]
    unique_id: Mapped[str | None]
    patient_id: Mapped[str | None]
    availability_status: Mapped[str] = mapped_column(SHORT)
    last_update_time: Mapped[str | None] = mapped_column(String(14))
    payload: Mapped[dict[str, Any]]

    __table_args__ = (
        Index("ux_folders_entry_uuid", "entry_uuid", unique=True),
        Index("ux_folders_unique_id_version", "unique_id", "version", unique=True),
        Index("ix_folders_logical_id", "logical_id"),
        Index("ix_folders_patient_status_last_update", "patient_id", "availability_status", "last_update_time"),
    )


class FolderCodeRow(Base):
    """A codeList value of a folder ($XDSFolderCodeList)."""

    __tablename__ = "folder_codes"

    id: Mapped[int] = _key()
    folder_id: Mapped[int] = _parent("folders.id")
    code: Mapped[str]
    scheme: Mapped[str]

    __table_args__ = (
        Index("ix_folder_codes_code_scheme", "code", "scheme"),
        Index("ix_folder_codes_folder_id", "folder_id"),
    )


class AssociationRow(Base):
    """An Association (ITI TF-3 §4.2.2), looked up from either end by type."""

    __tablename__ = "associations"

    id: Mapped[int] = _key()
    entry_uuid: Mapped[str]
    #: The association type URN as submitted.
    type: Mapped[str]
    source_uuid: Mapped[str]
    target_uuid: Mapped[str]
    availability_status: Mapped[str] = mapped_column(SHORT)
    submission_set_status: Mapped[str | None] = mapped_column(SHORT)
    payload: Mapped[dict[str, Any]]

    __table_args__ = (
        Index("ux_associations_entry_uuid", "entry_uuid", unique=True),
        Index("ix_associations_source_type", "source_uuid", "type"),
        Index("ix_associations_target_type", "target_uuid", "type"),
    )


class PatientRow(Base):
    """A patient known to the registry, as fed by Patient Identity Feed (ITI-8/ITI-44).

    A submission for a patient not here fails with XDSUnknownPatientId
    (ITI TF-3 Table 4.2.4.1-2).
    """

    __tablename__ = "patients"

    id: Mapped[int] = _key()
    #: CX formatted ``id^^^&oid&ISO``.
    patient_id: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(SHORT)

    __table_args__ = (Index("ux_patients_patient_id", "patient_id", unique=True),)


class RepositoryDocumentRow(Base):
    """A document held by the Document Repository (ITI-41): where its bytes are, and what they are.

    Written in the same transaction as the DocumentEntry that describes the
    document, after the bytes are safely in the blob store: a row here
    always points at a complete blob. ITI-43 finds documents by
    (repositoryUniqueId, uniqueId); the blob sweep keeps every ``blob_key``
    listed here.
    """

    __tablename__ = "repository_documents"

    id: Mapped[int] = _key()
    repository_unique_id: Mapped[str] = mapped_column(String(64))
    document_unique_id: Mapped[str]
    #: The DocumentEntry registered for the document when it was provided.
    entry_uuid: Mapped[str]
    blob_key: Mapped[str] = mapped_column(String(32))
    mime_type: Mapped[str]
    size: Mapped[int] = mapped_column(BigInteger)
    #: SHA-1, 40 lower-case hex digits (ITI TF-3 §4.2.3.2.10).
    hash: Mapped[str] = mapped_column(String(40))
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ux_repository_documents_repository_document", "repository_unique_id", "document_unique_id",
              unique=True),
        Index("ux_repository_documents_blob_key", "blob_key", unique=True),
    )


# -- Dossiers and access traces (issue 6; migration 0003) ---------------------


class DossierRow(Base):
    """A patient's DMP dossier: one per INS, filed under ``id^^^&OID&ISO`` (``gateway.audit.patient``)."""

    __tablename__ = "dossiers"

    id: Mapped[int] = _key()
    patient_key: Mapped[str]
    #: "open" or "closed" (``gateway.access.dossier.DossierStatus``).
    status: Mapped[str] = mapped_column(SHORT)
    #: The patient does not object to break-the-glass access / to the emergency regulation centre.
    allow_break_the_glass: Mapped[bool]
    allow_emergency_centre: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ux_dossiers_patient_key", "patient_key", unique=True),)


class DossierProfessionalRow(Base):
    """What one dossier says of one professional: authorization, blocked, "médecin traitant DMP"."""

    __tablename__ = "dossier_professionals"

    id: Mapped[int] = _key()
    dossier_id: Mapped[int] = _parent("dossiers.id")
    #: The professional's national id, as the VIHF NameID gives it (``8`` + RPPS, …).
    professional_id: Mapped[str] = mapped_column(String(64))
    #: VALIDE, INTERDIT, EXPIRE or NON_EXISTE (``gateway.access.dossier.Authorization``).
    authorization: Mapped[str] = mapped_column(SHORT)
    blocked: Mapped[bool]
    attending: Mapped[bool]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ux_dossier_professionals_dossier_professional", "dossier_id", "professional_id", unique=True),
    )


class AccessTraceRow(Base):
    """One access trace (``gateway.audit.AccessTrace``), a link of the hash chain (``gateway.audit.chain``).

    ``sequence`` is assigned by the store under the chain head's lock, in
    the transaction of the action traced: gap-free, a rolled-back action
    leaves no number behind.
    """

    __tablename__ = "access_traces"

    sequence: Mapped[int] = mapped_column(KEY_TYPE, primary_key=True, autoincrement=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: ``ITI-18:FindDocuments``, ``ITI-41``, ``ITI-43``, …
    transaction: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[str]
    actor_name: Mapped[str]
    actor_kind: Mapped[str] = mapped_column(String(32))
    #: ``[{"code", "system", "display"}, …]``
    actor_roles: Mapped[list[Any]] = mapped_column(PAYLOAD_TYPE)
    structure_id: Mapped[str]
    software_name: Mapped[str]
    software_version: Mapped[str]
    software_approval: Mapped[str]
    access_mode: Mapped[str] = mapped_column(String(32))
    break_the_glass: Mapped[bool]
    patient_key: Mapped[str | None]
    object_ids: Mapped[list[Any]] = mapped_column(PAYLOAD_TYPE)
    #: success, failure or refused.
    outcome: Mapped[str] = mapped_column(SHORT)
    error_code: Mapped[str | None]
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        # The patient reads their traces by period (GET /api/dossiers/{ins}/traces, ITI-81).
        Index("ix_access_traces_patient_recorded", "patient_key", "recorded_at"),
    )


class AccessTraceChainRow(Base):
    """The chain head: one row (id 1) holding the last trace's sequence and hash.

    Appending locks it (``SELECT … FOR UPDATE``) so that concurrent appends
    take turns, and its hash lets ``traces verify`` notice the newest traces
    being removed, which the chain alone cannot show.
    """

    __tablename__ = "access_trace_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_sequence: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
