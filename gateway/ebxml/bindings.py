"""How each XDS object type sits on ebRIM Classifications and ExternalIdentifiers (ITI TF-3 §4.2.5).

One table per object type, read by both :mod:`.rim_reader` and
:mod:`.rim_writer`, so that the two directions cannot drift apart: which
scheme holds the authors, which schemes hold one code or a list of codes,
which classification node marks a RegistryPackage as a SubmissionSet or a
Folder, the limitedMetadata node, and the external identifiers with the
model attribute each one fills.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..metadata.vocabulary import (
    CODE_LIST_SCHEMES_DE,
    CODE_SCHEMES_DE,
    DOCUMENT_ENTRY_SLOTS,
    FOLDER_SLOTS,
    SUBMISSION_SET_SLOTS,
    DocumentEntryScheme,
    FolderScheme,
    SubmissionSetScheme,
)


@dataclass(frozen=True)
class ExternalId:
    """One ExternalIdentifier: its scheme, the model attribute it fills and its Name (``XDSFolder.uniqueId``)."""

    scheme: str
    attr: str
    name: str
    #: The value is an HL7 v2 CX (a patient id) rather than a plain string.
    cx: bool = False


@dataclass(frozen=True)
class Binding:
    """The Slots, Classifications and ExternalIdentifiers of one object type (ITI TF-3 Table 4.2.5-1)."""

    #: Slot names read into named attributes; the others are the object's extra slots.
    slots: frozenset[str]
    limited_metadata: str
    external_ids: tuple[ExternalId, ...]
    #: Author Classifications (ITI TF-3 §4.2.3.1.4), into ``authors``; None when the type has no author.
    author: str | None = None
    #: scheme → (model attribute, IHE name) of attributes that hold one code.
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: scheme → (model attribute, IHE name) of attributes that hold a list of codes.
    code_lists: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: The classification node that makes a RegistryPackage this type; None for DocumentEntry.
    node: str | None = None

    def is_limited_metadata(self, scheme: str | None, node: str | None) -> bool:
        """limitedMetadata is a node; some senders (NIST samples among them) give it as the scheme."""
        return self.limited_metadata in (node, scheme)


DOCUMENT_ENTRY = Binding(
    slots=DOCUMENT_ENTRY_SLOTS,
    author=DocumentEntryScheme.AUTHOR,
    codes=CODE_SCHEMES_DE,
    code_lists=CODE_LIST_SCHEMES_DE,
    limited_metadata=DocumentEntryScheme.LIMITED_METADATA,
    external_ids=(
        ExternalId(DocumentEntryScheme.PATIENT_ID, "patient_id", "XDSDocumentEntry.patientId", cx=True),
        ExternalId(DocumentEntryScheme.UNIQUE_ID, "unique_id", "XDSDocumentEntry.uniqueId"),
    ),
)

SUBMISSION_SET = Binding(
    slots=SUBMISSION_SET_SLOTS,
    author=SubmissionSetScheme.AUTHOR,
    codes={SubmissionSetScheme.CONTENT_TYPE_CODE: ("content_type_code", "contentTypeCode")},
    node=SubmissionSetScheme.CLASSIFICATION_NODE,
    limited_metadata=SubmissionSetScheme.LIMITED_METADATA,
    external_ids=(
        ExternalId(SubmissionSetScheme.UNIQUE_ID, "unique_id", "XDSSubmissionSet.uniqueId"),
        ExternalId(SubmissionSetScheme.SOURCE_ID, "source_id", "XDSSubmissionSet.sourceId"),
        ExternalId(SubmissionSetScheme.PATIENT_ID, "patient_id", "XDSSubmissionSet.patientId", cx=True),
    ),
)

FOLDER = Binding(
    slots=FOLDER_SLOTS,
    code_lists={FolderScheme.CODE_LIST: ("codes", "codeList")},
    node=FolderScheme.CLASSIFICATION_NODE,
    limited_metadata=FolderScheme.LIMITED_METADATA,
    external_ids=(
        ExternalId(FolderScheme.UNIQUE_ID, "unique_id", "XDSFolder.uniqueId"),
        ExternalId(FolderScheme.PATIENT_ID, "patient_id", "XDSFolder.patientId", cx=True),
    ),
)

BINDINGS = (DOCUMENT_ENTRY, SUBMISSION_SET, FOLDER)

#: Classifications that may stand at the top level of a RegistryObjectList, outside the object they
#: classify (ITI TF-3 §4.2.5 shows both forms for the SubmissionSet and Folder nodes): the package
#: nodes and limitedMetadata. Every other XDS Classification sits inside its object.
TOP_LEVEL_NODES = frozenset(
    {b.node for b in BINDINGS if b.node is not None} | {b.limited_metadata for b in BINDINGS}
)
LIMITED_METADATA = frozenset(b.limited_metadata for b in BINDINGS)


def may_stand_at_top_level(scheme: str | None, node: str | None) -> bool:
    """Whether a Classification with this scheme and node may be outside the object it classifies."""
    return node in TOP_LEVEL_NODES or scheme in LIMITED_METADATA
