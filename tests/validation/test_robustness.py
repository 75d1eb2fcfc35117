"""Validation never fails on odd input: every submission gets findings, not an exception.

Two kinds of input: well-formed submissions (``tests.strategies.submissions``)
and odd ones built here, as a parser may hand them over: empty strings,
``None`` for required attributes, huge strings, control characters, ids that
claim to be urn:uuids but are not, associations pointing at nonsense,
duplicate ids, several or no SubmissionSets, a registry holding objects the
submission may point at.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.metadata import (
    CX,
    DTM,
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
from gateway.validation import ErrorCode, PatientPolicy, validate_metadata_only, validate_register

from ..factories import FakeRegistry, document_entry, folder, registered, submission_set
from ..strategies import submissions

KNOWN_CODES = {v for k, v in vars(ErrorCode).items() if k.isupper()}

REGISTERED_DOC = "urn:uuid:5b1d7a3e-0000-4000-8000-000000000001"
DEPRECATED_DOC = "urn:uuid:5b1d7a3e-0000-4000-8000-000000000002"
REGISTERED_FOLDER = "urn:uuid:5b1d7a3e-0000-4000-8000-000000000003"
REGISTERED_SS = "urn:uuid:5b1d7a3e-0000-4000-8000-000000000004"


def registry() -> FakeRegistry:
    """A registry whose objects odd submissions may point at, or collide with."""
    return FakeRegistry([
        registered(document_entry(REGISTERED_DOC, 1)),
        registered(document_entry(DEPRECATED_DOC, 2), AvailabilityStatus.DEPRECATED),
        registered(folder(REGISTERED_FOLDER)),
        registered(submission_set(REGISTERED_SS)),
    ])


def _check(submission: Submission, findings) -> None:
    ids = {o.entry_uuid for o in submission.objects()}
    for f in findings:
        assert f.code in KNOWN_CODES
        assert f.location is None or f.location in ids
        assert f.message


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(submissions())
def test_every_finding_has_a_known_code_and_points_at_a_submitted_object(submission):
    findings = validate_register(submission, FakeRegistry(), patient_policy=PatientPolicy.REGISTERED)
    findings += validate_metadata_only(submission)

    _check(submission, findings)


# --- Odd submissions ----------------------------------------------------------------------------------

huge = st.sampled_from([257, 1025, 5000]).flatmap(lambda n: st.sampled_from(["x" * n, "9" * n, "urn:uuid:" + "a" * n]))
odd_text = st.one_of(
    st.sampled_from(["", " ", "\n", "\t", "^", "&", "^^^&&", "\u0662\u0660\u0662\u0664", "1.2.3\n", "urn:oid:"]),
    st.text(max_size=30),  # any character, control characters included (no surrogates: st.text excludes them)
    st.text(st.characters(whitelist_categories=("Cc",)), min_size=1, max_size=5),
    huge,
)
# Ids: a few shared values so that objects collide and associations hit them, plus anything odd.
bad_uuids = st.sampled_from(["urn:uuid:", "urn:uuid:not-a-uuid", "URN:UUID:zz", "urn:uuid:" + "0" * 36])
id_pool = st.sampled_from(
    ["SubmissionSet01", "Document01", "Folder01", "Assoc01", REGISTERED_DOC, DEPRECATED_DOC, REGISTERED_FOLDER,
     REGISTERED_SS, "urn:uuid:5b1d7a3e-0000-4000-8000-0000000000ff"]
)
an_id = st.one_of(id_pool, bad_uuids, odd_text)
maybe = st.none() | odd_text

cx = st.one_of(st.none(), odd_text.map(CX.parse), st.builds(CX.of, odd_text, odd_text))
xcn = st.none() | odd_text.map(XCN.parse)
dtm = st.none() | odd_text.map(DTM) | st.sampled_from(["2024", "20240230", "20240215093000"]).map(DTM)
a_code = st.builds(Code, odd_text, odd_text, maybe)
codes = st.lists(a_code, max_size=2)
localized = st.none() | st.builds(LocalizedString, odd_text, maybe, maybe)
slots = st.dictionaries(odd_text, st.lists(odd_text, max_size=2), max_size=2)
author = st.builds(
    Author,
    person=xcn,
    institutions=st.lists(odd_text.map(XON.parse), max_size=2),
    roles=st.lists(odd_text, max_size=2),
    specialties=st.lists(odd_text, max_size=2),
    telecoms=st.lists(odd_text.map(XTN.parse), max_size=2),
    extra_slots=slots,
)
authors = st.lists(author, max_size=2)
common = dict(
    home_community_id=maybe,
    availability_status=st.none() | st.sampled_from(list(AvailabilityStatus)),
    title=localized,
    comments=localized,
    extra_slots=slots,
    version=maybe,
    logical_id=st.none() | an_id,
    limited_metadata=st.booleans(),
)

odd_document = st.builds(
    DocumentEntry,
    entry_uuid=an_id,
    object_type=st.sampled_from([ObjectType.STABLE_DOCUMENT_ENTRY, ObjectType.ON_DEMAND_DOCUMENT_ENTRY]) | odd_text,
    unique_id=maybe,
    patient_id=cx,
    source_patient_id=cx,
    source_patient_info=st.lists(odd_text, max_size=2),
    authors=authors,
    class_code=st.none() | a_code,
    type_code=st.none() | a_code,
    format_code=st.none() | a_code,
    healthcare_facility_type_code=st.none() | a_code,
    practice_setting_code=st.none() | a_code,
    confidentiality_codes=codes,
    event_codes=codes,
    creation_time=dtm,
    service_start_time=dtm,
    service_stop_time=dtm,
    language_code=maybe,
    mime_type=maybe,
    hash=maybe,
    size=maybe,
    repository_unique_id=maybe,
    uri=maybe,
    legal_authenticator=xcn,
    reference_ids=st.lists(odd_text, max_size=2),
    document_availability=st.none() | st.sampled_from(list(DocumentAvailability)),
    **common,
)
odd_submission_set = st.builds(
    SubmissionSet,
    entry_uuid=an_id,
    unique_id=maybe,
    source_id=maybe,
    patient_id=cx,
    submission_time=dtm,
    content_type_code=st.none() | a_code,
    authors=authors,
    intended_recipients=st.lists(odd_text, max_size=2),
    **common,
)
odd_folder = st.builds(
    Folder, entry_uuid=an_id, unique_id=maybe, patient_id=cx, codes=codes, last_update_time=dtm, **common
)


@st.composite
def odd_submissions(draw) -> Submission:
    sets = draw(st.lists(odd_submission_set, max_size=2))
    docs = draw(st.lists(odd_document, max_size=3))
    folders = draw(st.lists(odd_folder, max_size=2))
    # Association ends: the submitted objects (so that real rules are reached), the pool, nonsense.
    submitted = [o.entry_uuid for o in (*sets, *docs, *folders)]
    end = st.sampled_from(submitted) | an_id if submitted else an_id
    association = st.builds(
        Association,
        entry_uuid=an_id,
        type=st.sampled_from([t.value for t in AssociationType]) | odd_text,
        source=end,
        target=end,
        submission_set_status=st.none() | st.sampled_from(list(SubmissionSetStatus)),
        **{k: v for k, v in common.items() if k != "limited_metadata"},
    )
    associations = draw(st.lists(association, max_size=5))
    # Associations may also point at one another, as SubmissionSet → (Folder → Document) does.
    for a in associations:
        if draw(st.booleans()) and associations:
            a.target = draw(st.sampled_from([b.entry_uuid for b in associations]))
    return Submission(sets, docs, folders, associations)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(odd_submissions(), st.sampled_from(list(PatientPolicy)))
def test_odd_submissions_get_findings_never_an_exception(submission, policy):
    findings = validate_register(submission, registry(), patient_policy=policy)
    findings += validate_metadata_only(submission)
    findings += validate_metadata_only(
        submission, code=ErrorCode.REPOSITORY_METADATA_ERROR, require_repository_attributes=False
    )

    _check(submission, findings)


def test_the_odd_strategy_reaches_the_odd_cases():
    """A few hand-picked odd submissions, so that the cases above are surely exercised."""
    ss = SubmissionSet(entry_uuid="urn:uuid:", unique_id="", patient_id=None, title=LocalizedString("\x00" * 2000))
    doc = DocumentEntry(entry_uuid="Document01", size="9" * 5000, hash="\x07", creation_time=DTM("2024\n"),
                        patient_id=CX.parse("^^^&&"), extra_slots={"\n": ["x" * 300]})
    twin = DocumentEntry(entry_uuid="Document01", logical_id="urn:uuid:not-a-uuid", version="")
    nonsense = [
        Association(entry_uuid="", type="", source="", target=""),
        Association(entry_uuid="A1", type="bogus", source="A1", target="A1"),
        Association(entry_uuid="A2", type=AssociationType.HAS_MEMBER.value, source="urn:uuid:", target=REGISTERED_SS,
                    submission_set_status=SubmissionSetStatus.REFERENCE),
        Association(entry_uuid="A3", type=AssociationType.REPLACE.value, source="Document01", target=DEPRECATED_DOC),
        Association(entry_uuid="A3", type=AssociationType.IS_SNAPSHOT_OF.value, source=REGISTERED_FOLDER,
                    target="urn:uuid:not-a-uuid"),
    ]
    submission = Submission([ss, SubmissionSet(entry_uuid="")], [doc, twin], [], nonsense)

    findings = validate_register(submission, registry(), patient_policy=PatientPolicy.REGISTERED)
    findings += validate_metadata_only(submission)

    _check(submission, findings)
    assert len(findings) > 40
