"""The French profile assembled (gateway/ci_sis.py): which documents are read as CDA, warnings once on ITI-41."""

from __future__ import annotations

import pytest

from gateway.blobs import FileSystemBlobStore
from gateway.ci_sis import CdaDocumentCheck, metadata_profile
from gateway.metadata import CX, Code
from gateway.metadata.repository import Document, ProvideAndRegisterDocumentSet
from gateway.registry import DocumentRegistry
from gateway.repository import DocumentRepository
from gateway.validation import PatientPolicy
from gateway.validation.findings import ErrorCode, Severity
from gateway.valuesets import ValueSets
from gateway.valuesets.files import ci_sis_value_sets

from .ci_sis_factories import ci_sis_submission, document_entry
from .factories import DOC1_ID, DOC2_ID
from .store.conftest import db, empty_db  # noqa: F401 (fixtures)

NOT_A_CDA = b"<Signature xmlns='http://www.w3.org/2000/09/xmldsig#'/>"


@pytest.fixture
def check():
    return CdaDocumentCheck(ci_sis_value_sets())


def test_xml_of_a_non_cda_format_is_not_read_as_a_cda(check):
    signature = document_entry(mime_type="text/xml",
                               format_code=Code("urn:ihe:iti:dsg:detached:2014", "1.3.6.1.4.1.19376.1.2.3"))

    assert check(signature, NOT_A_CDA, ci_sis_submission()) == []


@pytest.mark.parametrize("mime_type", ["text/xml", "text/xml; charset=UTF-8", "TEXT/XML"])
def test_a_cda_mime_type_with_parameters_or_in_capitals_is_still_checked(check, mime_type):
    entry = document_entry(mime_type=mime_type)

    findings = check(entry, NOT_A_CDA, ci_sis_submission())

    assert [f.code for f in findings] == [ErrorCode.REPOSITORY_METADATA_ERROR]
    assert "Signature" in findings[0].message


def test_other_mime_types_are_not_read(check):
    assert check(document_entry(mime_type="application/pdf"), NOT_A_CDA, ci_sis_submission()) == []


def test_the_profile_refuses_to_start_without_its_value_sets():
    with pytest.raises(ValueError, match="JDV_J06_XdsClassCode_CISIS"):
        metadata_profile(ValueSets())


def test_a_warning_is_reported_once_on_provide_and_register(db, tmp_path):
    """The repository and the registry both run the profile's rules; the answer lists a warning once."""
    wrong_key = CX.parse("279035121518900^^^&1.2.250.1.213.1.4.10&ISO^NH")
    submission = ci_sis_submission(ss={"patient_id": wrong_key}, doc1={"patient_id": wrong_key, "hash": None,
                                   "size": None, "repository_unique_id": None},
                                   doc2={"patient_id": wrong_key, "hash": None, "size": None,
                                         "repository_unique_id": None},
                                   folder_={"patient_id": wrong_key})
    registry = DocumentRegistry(db, patient_policy=PatientPolicy.AUTO, profile=metadata_profile())
    repository = DocumentRepository(registry, FileSystemBlobStore(tmp_path), repository_unique_id="1.2.250.1.999.7")

    outcome = repository.provide_and_register(
        ProvideAndRegisterDocumentSet(submission, [Document(DOC1_ID, b"one"), Document(DOC2_ID, b"two")])
    )

    assert all(f.severity is Severity.WARNING for f in outcome.findings)
    key_warnings = [(f.location, f.code) for f in outcome.findings if "key" in f.message]
    assert sorted(key_warnings) == sorted(
        [(loc, ErrorCode.REGISTRY_METADATA_ERROR) for loc in ("SubmissionSet01", DOC1_ID, DOC2_ID, "Folder01")]
    )


def test_a_cda_under_a_non_cda_format_is_still_checked_against_its_metadata(check):
    """The content decides: claiming a signature format does not skip the CDA check."""
    from pathlib import Path

    cda = (Path(__file__).parent / "corpus" / "iti41" / "cr-consultation.cda.xml").read_bytes()
    entry = document_entry(mime_type="text/xml",
                           format_code=Code("urn:ihe:iti:dsg:detached:2014", "1.3.6.1.4.1.19376.1.2.3"))

    findings = check(entry, cda, ci_sis_submission())

    assert findings and all(f.code == ErrorCode.REPOSITORY_METADATA_ERROR for f in findings)
    assert any("uniqueId" in f.message for f in findings)
