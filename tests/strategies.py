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

# Text XML 1.0 can carry: no control characters (Cc), no surrogates (Cs), no non-characters such as
# U+FFFE (Cn). Markup characters, quotes and characters beyond the BMP are drawn on purpose, and the
# empty string is allowed: an attribute or element can be empty.
xml_char = st.characters(blacklist_categories=("Cs", "Cc", "Cn")) | st.sampled_from("&<>\"' é\U0001F3E5\U00010348")
text = st.text(xml_char, max_size=20)
# One HL7 v2 (sub)component: no separators, no trailing emptiness to trim.
component = st.text(st.characters(whitelist_categories=("L", "N"), whitelist_characters=".-_ "), min_size=1, max_size=12)
oid = st.lists(st.integers(0, 99999), min_size=2, max_size=8).map(lambda xs: "1." + ".".join(map(str, xs)))
uuid_urn = st.uuids().map(lambda u: f"urn:uuid:{u}")  # lower case: the form the reader normalises ids to
dtm = st.builds(
    lambda y, rest, precision: DTM((f"{y:04d}" + rest)[:precision]),
    st.integers(1900, 2100),
    st.just("0615123045"),
    st.sampled_from(DTM.PRECISIONS),
)
# A slot or attribute value: mostly the shapes real metadata has, sometimes any XML text.
value = component | text
code = st.builds(Code, value, oid | text, st.none() | text)
localized = st.builds(
    LocalizedString, text, st.none() | st.sampled_from(["fr-FR", "en", ""]), st.none() | st.sampled_from(["UTF-8", ""])
)
slot_values = st.lists(text, max_size=3)
# Extra slot names: any XML text behind a prefix no XDS slot has, so they never collide with one.
extra_slots = st.dictionaries(text.map(lambda s: "urn:x:" + s), slot_values, max_size=2)

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
    roles=st.lists(value, max_size=2),
    specialties=st.lists(value, max_size=2),
    telecoms=st.lists(xtn, max_size=2),
    extra_slots=extra_slots,
)
common = dict(
    home_community_id=st.none() | oid.map(lambda o: "urn:oid:" + o),
    availability_status=st.none() | st.sampled_from(list(AvailabilityStatus)),
    title=st.none() | localized,
    comments=st.none() | localized,
    extra_slots=extra_slots,
    version=st.none() | st.just("1") | st.text(xml_char, max_size=16),  # rim.xsd: versionName is String16
    logical_id=st.none() | uuid_urn,
    limited_metadata=st.booleans(),
)


def document_entry(entry_uuid: str) -> st.SearchStrategy[DocumentEntry]:
    return st.builds(
        DocumentEntry,
        entry_uuid=st.just(entry_uuid),
        object_type=st.sampled_from([ObjectType.STABLE_DOCUMENT_ENTRY, ObjectType.ON_DEMAND_DOCUMENT_ENTRY]),
        unique_id=oid | text,
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
        language_code=st.just("fr-FR") | text,
        mime_type=st.none() | st.sampled_from(["text/xml", "application/pdf"]),
        hash=st.text("0123456789abcdef", min_size=40, max_size=40) | text,
        size=st.integers(0, 10**9).map(str) | text,
        repository_unique_id=oid | text,
        uri=st.none() | text,
        legal_authenticator=st.none() | xcn,
        reference_ids=st.lists(value, max_size=2),
        document_availability=st.none() | st.sampled_from(list(DocumentAvailability)),
        **common,
    )


def submission_set(entry_uuid: str) -> st.SearchStrategy[SubmissionSet]:
    return st.builds(
        SubmissionSet,
        entry_uuid=st.just(entry_uuid),
        unique_id=oid | text,
        source_id=oid | text,
        patient_id=cx,
        submission_time=dtm,
        content_type_code=code,
        authors=st.lists(author, max_size=2),
        intended_recipients=st.lists(value, max_size=2),
        **common,
    )


def folder(entry_uuid: str) -> st.SearchStrategy[Folder]:
    return st.builds(
        Folder,
        entry_uuid=st.just(entry_uuid),
        unique_id=oid | text,
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
    """A submission with one SubmissionSet, 0–3 documents, 0–2 folders and associations between them.

    Ids are either all symbolic or all ``urn:uuid:`` (in lower case, the form the reader gives).
    """
    n_docs = draw(st.integers(0, 3))
    n_folders = draw(st.integers(0, 2))
    names = ["SubmissionSet01", *(f"Document{i:02d}" for i in range(n_docs)),
             *(f"Folder{i:02d}" for i in range(n_folders)), *(f"Association{i:02d}" for i in range(n_docs + n_folders))]
    if draw(st.booleans()):
        ids = dict(zip(names, draw(st.lists(uuid_urn, min_size=len(names), max_size=len(names), unique=True))))
    else:
        ids = {name: name for name in names}
    ss = draw(submission_set(ids["SubmissionSet01"]))
    docs = [draw(document_entry(ids[f"Document{i:02d}"])) for i in range(n_docs)]
    folders = [draw(folder(ids[f"Folder{i:02d}"])) for i in range(n_folders)]
    targets = [o.entry_uuid for o in docs + folders]
    assocs = [draw(association(ids[f"Association{i:02d}"], ss.entry_uuid, t)) for i, t in enumerate(targets)]
    return Submission([ss], docs, folders, assocs)
