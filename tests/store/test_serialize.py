"""serialize: exact, JSON-safe round trip of every kind of XDS object."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest

from gateway.metadata.model import Association, Author, DocumentEntry, Folder, SubmissionSet
from gateway.store.serialize import from_dict, to_dict

from . import factories

FULL = {
    "DocumentEntry": factories.document,
    "SubmissionSet": factories.submission_set,
    "Folder": factories.folder,
    "Association": lambda: factories.association(factories.new_uuid(), factories.new_uuid()),
}


def _assert_fully_populated(obj) -> None:
    """Guards the test itself: a field left at its default would not be exercised."""
    empty = [f.name for f in fields(obj) if getattr(obj, f.name) in (None, "", [], {}, False)]
    assert not empty, f"{type(obj).__name__} fields left empty: {empty}"


@pytest.mark.parametrize("kind", sorted(FULL))
def test_round_trip_of_fully_populated_object(kind):
    obj = FULL[kind]()
    _assert_fully_populated(obj)
    for a in getattr(obj, "authors", []):
        _assert_fully_populated(a)

    data = to_dict(obj)

    assert data["kind"] == kind
    assert from_dict(data) == obj
    # JSON-safe: what the database gives back after a JSON trip is enough.
    assert from_dict(json.loads(json.dumps(data))) == obj


@pytest.mark.parametrize("cls", [DocumentEntry, SubmissionSet, Folder])
def test_round_trip_of_minimal_object(cls):
    obj = cls(entry_uuid="urn:uuid:00000000-0000-0000-0000-000000000001")
    assert from_dict(json.loads(json.dumps(to_dict(obj)))) == obj


def test_minimal_association_round_trip():
    obj = Association(entry_uuid="a", type="urn:example:unknown-type", source="s", target="t")
    assert from_dict(to_dict(obj)) == obj


def test_encoded_forms_are_the_xds_strings():
    doc = factories.document()
    data = to_dict(doc)
    assert data["patient_id"] == factories.PATIENT
    assert data["creation_time"] == "20240315101530"
    assert data["service_stop_time"] == "2024031512"  # submitted precision kept
    assert data["availability_status"] == "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
    assert data["class_code"] == {
        "code": "11488-4",
        "scheme": "2.16.840.1.113883.6.1",
        "display_name": "Compte rendu de consultation",
    }
    assert data["authors"][0]["person"] == doc.authors[0].person.format()
    assert data["extra_slots"] == [[name, values] for name, values in doc.extra_slots.items()]


def test_author_without_person_round_trips():
    doc = factories.document(authors=[Author(roles=["only a role"])])
    assert from_dict(to_dict(doc)) == doc


def test_payload_without_newer_fields_takes_defaults():
    data = to_dict(factories.folder())
    del data["codes"]
    assert from_dict(data).codes == []


def test_unknown_kind_and_unknown_field_are_refused():
    with pytest.raises(ValueError, match="kind"):
        from_dict({"kind": "Patient", "entry_uuid": "x"})
    data = to_dict(factories.folder())
    data["surprise"] = 1
    with pytest.raises(ValueError, match="surprise"):
        from_dict(data)
    with pytest.raises(TypeError):
        to_dict(Author())  # type: ignore[arg-type]
