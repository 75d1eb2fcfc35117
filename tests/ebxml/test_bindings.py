"""The tables the reader and the writer share, and who depends on whom."""

import ast
from dataclasses import fields
from pathlib import Path

import pytest

from gateway.ebxml import bindings, rim_writer
from gateway.metadata import DocumentEntry, Folder, SubmissionSet
from gateway.metadata.vocabulary import CODE_LIST_SCHEMES_DE, CODE_SCHEMES_DE, DocumentEntryScheme


def test_the_writer_does_not_import_the_reader():
    tree = ast.parse(Path(rim_writer.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}

    assert "rim_reader" not in imported


def test_the_code_schemes_of_document_entry_are_model_vocabulary():
    assert CODE_SCHEMES_DE[DocumentEntryScheme.CLASS_CODE] == ("class_code", "classCode")
    assert CODE_LIST_SCHEMES_DE[DocumentEntryScheme.EVENT_CODE] == ("event_codes", "eventCodeList")
    assert bindings.DOCUMENT_ENTRY.codes is CODE_SCHEMES_DE
    assert bindings.DOCUMENT_ENTRY.code_lists is CODE_LIST_SCHEMES_DE


@pytest.mark.parametrize(
    ("model", "binding", "prefix"),
    [
        (DocumentEntry, bindings.DOCUMENT_ENTRY, "XDSDocumentEntry"),
        (SubmissionSet, bindings.SUBMISSION_SET, "XDSSubmissionSet"),
        (Folder, bindings.FOLDER, "XDSFolder"),
    ],
)
def test_each_binding_names_fields_of_its_model(model, binding, prefix):
    names = {f.name for f in fields(model)}
    attributes = [attr for attr, _ in [*binding.codes.values(), *binding.code_lists.values()]]
    attributes += [known.attr for known in binding.external_ids]
    if binding.author is not None:
        attributes.append("authors")

    assert set(attributes) <= names
    assert all(known.name.startswith(prefix + ".") for known in binding.external_ids)
    schemes = [*binding.codes, *binding.code_lists, *(known.scheme for known in binding.external_ids)]
    assert len(schemes) == len(set(schemes))


def test_derived_ids_are_rfc4122_uuid5():
    import uuid

    from gateway.ebxml.rim_writer import _ID_NAMESPACE, _derived_id

    namespace = uuid.UUID(bytes=_ID_NAMESPACE)
    for owner, parts in [("urn:uuid:0d0d0d0d-0000-4000-8000-000000000001", ("cl", 3)), ("Doc01", ("ei", "x"))]:
        expected = uuid.uuid5(namespace, "/".join([owner, *map(str, parts)]))
        assert _derived_id(owner, *parts) == f"urn:uuid:{expected}"
