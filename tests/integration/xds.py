"""Helpers for the XDS.b integration tests: submit over real HTTP, read what the registry holds."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from gateway.ebxml import submit_objects_request
from gateway.metadata import Submission, XdsObject
from gateway.store.registry_store import RegistryStore

from ..support.soap_client import SoapResponse, post

ITI42 = "urn:ihe:iti:2007:RegisterDocumentSet-b"
ITI42_RESPONSE = "urn:ihe:iti:2007:RegisterDocumentSet-bResponse"
SOAP_XML = "application/soap+xml; charset=UTF-8"
CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def corpus_request(name: str = "iti42/cr-consultation.xml") -> etree._Element:
    """A hand-written request body from the corpus (see tests/corpus/README.md)."""
    return etree.parse(str(CORPUS / name)).getroot()


def register(gateway, submission: Submission, *, mtom: bool = False) -> SoapResponse:
    return post(gateway.registry_url, ITI42, submit_objects_request(submission), mtom=mtom)


def by_unique_id(gateway, unique_id: str) -> list[XdsObject]:
    with gateway.db.session(read_only=True) as session:
        return RegistryStore(session).find_by_unique_ids([unique_id]).get(unique_id, [])


def by_uuid(gateway, entry_uuid: str) -> XdsObject | None:
    with gateway.db.session(read_only=True) as session:
        return RegistryStore(session).get_by_uuids([entry_uuid]).get(entry_uuid)


def associations_of(gateway, entry_uuid: str, **kwargs):
    with gateway.db.session(read_only=True) as session:
        return RegistryStore(session).associations_of([entry_uuid], **kwargs)
