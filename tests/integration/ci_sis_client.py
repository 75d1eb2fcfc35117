"""Helpers of the CI-SIS profile tests: the ANS example CDAs, a submission around one DocumentEntry, ITI-41.

The example documents and the CDA schema come with the shared test data
(``../shared/data/cda``); the project does not ship them. A test that needs
one skips, naming the path, when it is absent.
"""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import pytest

from gateway.ci_sis import document_entry_from
from gateway.metadata import DTM, Association, Code, DocumentEntry, Submission, SubmissionSet, SubmissionSetStatus
from gateway.metadata.repository import Document, DocumentReference, ProvideAndRegisterDocumentSet

from ..factories import has_member
from ..support.soap_client import SoapResponse
from .repository_client import provide_and_register

SHARED_CDA = Path(__file__).resolve().parents[3] / "shared" / "data" / "cda"
EXAMPLES_DIR = SHARED_CDA / "examples"
CDA_SCHEMA = SHARED_CDA / "schema" / "CDA_extended.xsd"

#: The ANS example documents (CI-SIS test-contenu CDA), one per model.
EXAMPLES = (
    "ANEST-CR-CPA_2022.01.xml",
    "BIO-CR-BIO_2021.01_Auto-Presentable_avec-image.xml",
    "BIO-CR-BIO_2024.01_CR-2nde-intention-PDF.xml",
    "BIO-CR-BIO_2024.01_Microbiologie_V2.xml",
    "BIO-CR-BIO_2024.01_TSH_1.xml",
    "BIO-TROD_2024.01_COVID-19.xml",
    "CNAM-HR_2021.01.xml",
    "CSE-CS8_2025.01.xml",
    "DLU-EHPAD-FLUDT_2022.01.xml",
    "DOC_NON_STRUCTURE_CDA-R2-N1.xml",
    "IMG_CR_IMG_2024.01.xml",
    "IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml",
    "IPS-FR_2024.01.xml",
    "LDL-EES_2022.01.xml",
    "LDL-SES_2022.01.xml",
    "VAC-NOTE_2023.01.xml",
    "VAC_2023.01.xml",
    "VSM_1.4_2022.01.xml",
    "eDISP-MED_2024.01.xml",
    "eP-MED-DM_2024.01_PosoStruct.xml",
)

SS_ID = "SubmissionSet01"
DOC_ID = "Document01"
#: The source system: an OID of the test arc.
SOURCE_ID = "1.2.250.1.999.4"
#: contentTypeCode "04 Hospitalisation de jour" (TRE_R209, in JDV_J03_XdsContentTypeCode_CISIS).
CONTENT_TYPE = Code("04", "1.2.250.1.213.2.2", "Hospitalisation de jour")

_serial = itertools.count(1)


def example(name: str) -> bytes:
    path = EXAMPLES_DIR / name
    if not path.is_file():
        pytest.skip(f"the ANS example CDA {path} is absent (it comes with the shared test data)")
    return path.read_bytes()


def schema_path() -> str:
    """``XDSGW_CDA_SCHEMA`` of the test server: the shared CDA_extended.xsd, or none when it is absent."""
    return str(CDA_SCHEMA) if CDA_SCHEMA.is_file() else ""


def require_schema(gw) -> None:
    if not gw.settings.cda_schema:
        pytest.skip(f"the CDA R2 schema {CDA_SCHEMA} is absent (it comes with the shared test data)")


def derived_entry(data: bytes) -> DocumentEntry:
    """The DocumentEntry the gateway derives from a CDA (``xds-gateway metadata from-cda``)."""
    entry, findings = document_entry_from(data, entry_id=DOC_ID)
    assert findings == [] and entry is not None
    return entry


def altered(data: bytes, old: str, new: str) -> bytes:
    """``data`` with the one occurrence of ``old`` replaced by ``new``."""
    old_bytes, new_bytes = old.encode(), new.encode()
    assert data.count(old_bytes) == 1, f"{old!r} occurs {data.count(old_bytes)} times"
    return data.replace(old_bytes, new_bytes)


def nir(first_13: str) -> str:
    """A NIR with its key: 97 - (the 13 digits mod 97), on two digits (INSEE)."""
    return f"{first_13}{97 - int(first_13) % 97:02d}"


def submission_of(entry: DocumentEntry, *associations: Association) -> Submission:
    """``entry`` in a SubmissionSet of its patient, authored by its first author, as an Original member."""
    ss = SubmissionSet(
        entry_uuid=SS_ID,
        unique_id=f"1.2.250.1.999.3.{next(_serial)}",
        source_id=SOURCE_ID,
        patient_id=entry.patient_id,
        submission_time=DTM.now(),
        content_type_code=CONTENT_TYPE,
        authors=entry.authors[:1],
    )
    member = has_member("HasMember-SS-Doc1", SS_ID, entry.entry_uuid, SubmissionSetStatus.ORIGINAL)
    return Submission(submission_sets=[ss], documents=[entry], associations=[member, *associations])


def provide(gw, entry: DocumentEntry, data: bytes, *associations: Association) -> SoapResponse:
    """ITI-41 (MTOM) of ``entry`` with ``data`` as its document."""
    request = ProvideAndRegisterDocumentSet(submission_of(entry, *associations), [Document(entry.entry_uuid, data)])
    return provide_and_register(gw.repository_url, request, mtom=True, content_type=entry.mime_type or "text/xml")


def reference(gw, unique_id: str) -> DocumentReference:
    return DocumentReference(gw.settings.repository_unique_id, unique_id)


def findings(response: SoapResponse) -> list[tuple[str, str, str | None]]:
    """(errorCode, severity Error or Warning, location) of each RegistryError, in order."""
    return [
        (e["errorCode"], e.get("severity", "").rsplit(":", 1)[-1], e.get("location")) for e in response.errors
    ]


def messages(response: SoapResponse) -> list[str]:
    return [e.get("codeContext", "") for e in response.errors]


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()
