"""Hypothesis strategies generating arbitrary, fully populated XDS metadata."""

from __future__ import annotations

from hypothesis import strategies as st

from gateway.metadata import (
    CX,
    DTM,
    HD,
    XCN,
    XON,
    XTN,
    Association,
    AssociationType,
    Author,
    AvailabilityStatus,
    Code,
    DocumentAvailability,
    DocumentEntry,
    Folder,
    LocalizedString,
    ObjectType,
    Submission,
    SubmissionSet,
    SubmissionSetStatus,
)

# Text XML can carry: no control characters, no surrogates.
text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)
# One HL7 v2 (sub)component: no separators, no trailing emptiness to trim.
component = st.text(st.characters(whitelist_categories=("L", "N"), whitelist_characters=".-_ "), min_size=1, max_size=12)
oid = st.lists(st.integers(0, 99999), min_size=2, max_size=8).map(lambda xs: "1." + ".".join(map(str, xs)))
uuid_urn = st.uuids().map(lambda u: f"urn:uuid:{u}")
dtm = st.builds(
    lambda y, rest, precision: DTM((f"{y:04d}" + rest)[:precision]),
    st.integers(1900, 2100),
    st.just("0615123045"),
    st.sampled_from(DTM.PRECISIONS),
)
code = st.builds(Code, component, oid, st.none() | text)
localized = st.builds(LocalizedString, text, st.none() | st.sampled_from(["fr-FR", "en"]), st.none() | st.just("UTF-8"))
slot_values = st.lists(text, min_size=1, max_size=3)
extra_slots = st.dictionaries(st.text("abcdefgh", min_size=1, max_size=6).map(lambda s: "urn:x:" + s), slot_values, max_size=2)

hd = st.builds(HD, st.just(""), oid, st.just("ISO"))
cx = st.builds(CX.of, component, oid)
xcn = st.builds(
    XCN,
    id=component,
    family_name=component,
    given_name=component,
    prefix=st.just("") | component,
    assigning_authority=hd,
    name_type_code=st.just("") | st.just("D"),
    identifier_type_code=st.just("") | st.just("IDNPS"),
)
xon = st.builds(XON, organization_name=component, assigning_authority=hd, organization_identifier=component)
xtn = st.builds(XTN, use_code=st.just("NET"), equipment_type=st.just("Internet"), email_address=component)
author = st.builds(
    Author,
    person=st.none() | xcn,
    institutions=st.lists(xon, max_size=2),
    roles=st.lists(component, max_size=2),
    specialties=st.lists(component, max_size=2),
    telecoms=st.lists(xtn, max_size=2),
    extra_slots=extra_slots,
)
common = dict(
    home_community_id=st.none() | oid.map(lambda o: "urn:oid:" + o),
    availability_status=st.none() | st.sampled_from(list(AvailabilityStatus)),
    title=st.none() | localized,
    comments=st.none() | localized,
    extra_slots=extra_slots,
    version=st.none() | st.just("1"),
    logical_id=st.none() | uuid_urn,
    limited_metadata=st.booleans(),
)


def document_entry(entry_uuid: str) -> st.SearchStrategy[DocumentEntry]:
    return st.builds(
        DocumentEntry,
        entry_uuid=st.just(entry_uuid),
        object_type=st.sampled_from([ObjectType.STABLE_DOCUMENT_ENTRY, ObjectType.ON_DEMAND_DOCUMENT_ENTRY]),
        unique_id=oid,
        patient_id=cx,
        source_patient_id=cx,
        source_patient_info=st.lists(text, max_size=3),
        authors=st.lists(author, max_size=2),
        class_code=code,
        type_code=code,
        format_code=code,
        healthcare_facility_type_code=code,
        practice_setting_code=code,
        confidentiality_codes=st.lists(code, min_size=1, max_size=3),
        event_codes=st.lists(code, max_size=3),
        creation_time=dtm,
        service_start_time=st.none() | dtm,
        service_stop_time=st.none() | dtm,
        language_code=st.just("fr-FR"),
        mime_type=st.sampled_from(["text/xml", "application/pdf"]),
        hash=st.text("0123456789abcdef", min_size=40, max_size=40),
        size=st.integers(0, 10**9).map(str),
        repository_unique_id=oid,
        uri=st.none() | st.just("doc.xml"),
        legal_authenticator=st.none() | xcn,
        reference_ids=st.lists(component, max_size=2),
        document_availability=st.none() | st.sampled_from(list(DocumentAvailability)),
        **common,
    )


def submission_set(entry_uuid: str) -> st.SearchStrategy[SubmissionSet]:
    return st.builds(
        SubmissionSet,
        entry_uuid=st.just(entry_uuid),
        unique_id=oid,
        source_id=oid,
        patient_id=cx,
        submission_time=dtm,
        content_type_code=code,
        authors=st.lists(author, max_size=2),
        intended_recipients=st.lists(component, max_size=2),
        **common,
    )


def folder(entry_uuid: str) -> st.SearchStrategy[Folder]:
    return st.builds(
        Folder,
        entry_uuid=st.just(entry_uuid),
        unique_id=oid,
        patient_id=cx,
        codes=st.lists(code, min_size=1, max_size=3),
        last_update_time=st.none() | dtm,
        **common,
    )


def association(entry_uuid: str, source: str, target: str) -> st.SearchStrategy[Association]:
    return st.builds(
        Association,
        entry_uuid=st.just(entry_uuid),
        type=st.sampled_from([t.value for t in AssociationType]),
        source=st.just(source),
        target=st.just(target),
        submission_set_status=st.none() | st.sampled_from(list(SubmissionSetStatus)),
        **{k: v for k, v in common.items() if k != "limited_metadata"},
    )


@st.composite
def submissions(draw) -> Submission:
    """A submission with one SubmissionSet, 0–3 documents, 0–2 folders and associations between them."""
    n_docs = draw(st.integers(0, 3))
    n_folders = draw(st.integers(0, 2))
    ss = draw(submission_set("SubmissionSet01"))
    docs = [draw(document_entry(f"Document{i:02d}")) for i in range(n_docs)]
    folders = [draw(folder(f"Folder{i:02d}")) for i in range(n_folders)]
    targets = [o.entry_uuid for o in docs + folders]
    assocs = [draw(association(f"Association{i:02d}", ss.entry_uuid, t)) for i, t in enumerate(targets)]
    return Submission([ss], docs, folders, assocs)
