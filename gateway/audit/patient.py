"""The key a patient's dossier and access traces are filed under (issue 6).

A patient reaches the gateway as a CX in many spellings: the CI-SIS
``matricule^^^&OID&ISO^NH`` of XDS metadata (Volet PDS §3.4), the VIHF
``resource-id``, or an IHE ``id^^^&OID&ISO`` (ITI TF-3 §4.2.3.2.16, which
only uses components 1 and 4). Dossiers and traces are keyed on those two
components alone, ``id^^^&OID&ISO``, so that every spelling of the same INS
finds the same dossier and the same traces: the key the registry files
patients under too (:meth:`gateway.metadata.hl7v2.CX.key`).
"""

from __future__ import annotations

from gateway.metadata.hl7v2 import CX


def patient_key(patient_id: str) -> str:
    """The key of a patient given as a CX: components 1 and 4 only, ``id^^^&OID&ISO``.

    Raises ValueError when the CX has no id or no assigning authority OID:
    such a value names no patient unambiguously.
    """
    cx = CX.parse(patient_id.strip())
    oid = cx.assigning_authority.universal_id
    if not cx.id or not oid:
        raise ValueError(f"{patient_id!r} is not a patient id of the form id^^^&OID&ISO")
    return cx.key()


def ins_key(matricule: str, oid: str) -> str:
    """The key of the identifier ``matricule`` assigned by ``oid`` (an INS OID for a DMP dossier)."""
    return CX.of(matricule, oid).key()


def split_key(key: str) -> tuple[str, str]:
    """``(id, OID)`` of a key made by :func:`patient_key`."""
    cx = CX.parse(key)
    return cx.id, cx.assigning_authority.universal_id
