"""Access traces (issue 6): the trace value, its hash chain, and its FHIR R4 AuditEvent form (ITI-81).

The store that keeps them is :mod:`gateway.store.trace_store`.
"""

from .chain import GENESIS_HASH, ChainHead, ChainProblem, canonical_json, chain_hash, verify_chain
from .fhir import to_fhir_audit_event
from .model import ITI_18, ITI_41, ITI_42, ITI_43, ITI_57, ITI_62, AccessTrace, Outcome, stored_query_transaction
from .patient import ins_key, patient_key, split_key

__all__ = [
    "GENESIS_HASH", "ChainHead", "ChainProblem", "canonical_json", "chain_hash", "verify_chain",
    "to_fhir_audit_event",
    "ITI_18", "ITI_41", "ITI_42", "ITI_43", "ITI_57", "ITI_62", "AccessTrace", "Outcome", "stored_query_transaction",
    "ins_key", "patient_key", "split_key",
]
