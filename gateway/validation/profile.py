"""Metadata profiles: what a national extension adds to the IHE rules.

The IHE rules (ITI TF-3 §4.1–4.3) always apply. A profile may loosen one of
them where its extension says so (the CI-SIS writes an INS patient id with
the identifier type code ``NH``, which strict IHE CX refuses) and adds its
own rules, run over the same submission with the same error code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..metadata.model import Submission
from .findings import Finding

Rules = Callable[[Submission, str], list[Finding]]


@dataclass(frozen=True)
class MetadataProfile:
    name: str
    #: Identifier type codes (CX component 5) allowed on patientId and sourcePatientId.
    patient_id_types: frozenset[str] = frozenset()
    #: The profile's own rules: (submission, error code) → findings.
    rules: Rules | None = None

    def check(self, submission: Submission, code: str) -> list[Finding]:
        return self.rules(submission, code) if self.rules is not None else []


#: Plain IHE: no extension.
IHE = MetadataProfile("ihe")
