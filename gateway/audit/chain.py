"""The hash chain that makes the access traces tamper-evident (issue 6).

Each trace holds the hash of the one before it:

    hash(n) = SHA-256( hash(n-1) as 64 hex digits ‖ canonical JSON of trace n )

with ``hash(0)`` = 64 zeros (:data:`GENESIS_HASH`), digests written as
lower-case hex. The canonical JSON is the trace's fields (everything but
``previous_hash`` and ``hash``, the sequence number included so that a
moved row no longer matches), as one object with sorted keys, no
whitespace, UTF-8, non-ASCII characters unescaped. For the values a trace
holds — strings, integers, booleans, null, arrays and objects with ASCII
keys, no floats — this is exactly the JSON Canonicalization Scheme (RFC
8785), so any language can recompute a chain. Times are ISO 8601 UTC to the
microsecond (``2025-03-12T13:30:00.000000Z``).

Editing a trace changes its hash; deleting one leaves a gap in the sequence
and breaks the next link; moving one breaks both. The last link is guarded
by the chain head the store keeps (its last sequence and hash), so removing
the newest traces shows too. Whoever may rewrite the whole table and the
head can still forge a consistent chain: publishing the head's hash
elsewhere from time to time is what would close that door.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .model import AccessTrace

GENESIS_HASH = "0" * 64


def canonical_fields(trace: AccessTrace) -> dict[str, Any]:
    """What the hash covers: every field of the trace but the chain links themselves."""
    return {
        "sequence": trace.sequence,
        "recorded_at": trace.recorded_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "transaction": trace.transaction,
        "actor_id": trace.actor_id,
        "actor_name": trace.actor_name,
        "actor_kind": trace.actor_kind,
        "actor_roles": roles_json(trace),
        "structure_id": trace.structure_id,
        "software_name": trace.software_name,
        "software_version": trace.software_version,
        "software_approval": trace.software_approval,
        "access_mode": trace.access_mode,
        "break_the_glass": trace.break_the_glass,
        "patient_key": trace.patient_key,
        "object_ids": list(trace.object_ids),
        "outcome": trace.outcome.value,
        "error_code": trace.error_code,
    }


def roles_json(trace: AccessTrace) -> list[dict[str, str | None]]:
    """The actor's roles as stored and hashed: ``{"code", "system", "display"}`` objects, in order."""
    return [{"code": r.code, "system": r.scheme, "display": r.display_name} for r in trace.actor_roles]


def canonical_json(trace: AccessTrace) -> bytes:
    """The bytes hashed for ``trace`` (RFC 8785 for these value types, see the module doc)."""
    return json.dumps(
        canonical_fields(trace), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def chain_hash(previous_hash: str, trace: AccessTrace) -> str:
    """``SHA-256(previous_hash ‖ canonical JSON)`` as 64 lower-case hex digits."""
    digest = hashlib.sha256(previous_hash.encode("ascii"))
    digest.update(canonical_json(trace))
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """One inconsistency of the chain, named by the sequence number where it shows."""

    sequence: int
    message: str

    def __str__(self) -> str:
        return f"trace {self.sequence}: {self.message}"


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last link as the store recorded it when it appended: sequence and hash."""

    sequence: int
    hash: str


def verify_chain(traces: Iterable[AccessTrace], head: ChainHead | None = None) -> tuple[int, list[ChainProblem]]:
    """Recompute the chain over ``traces`` (in sequence order); return how many were read and the problems.

    Each trace is checked on its own (its stored hash against its content:
    an edit) and against its predecessor (the sequence follows on: a
    deletion; ``previous_hash`` is the predecessor's hash: a deletion or a
    move). After a problem the check resumes from the trace found, so that
    one tampering is reported once and later ones are still seen.
    """
    problems: list[ChainProblem] = []
    expected_sequence = 1
    previous_hash = GENESIS_HASH
    count = 0
    for trace in traces:
        count += 1
        sequence = trace.sequence or 0
        if sequence > expected_sequence:
            missing = (f"trace {expected_sequence} is" if sequence == expected_sequence + 1
                       else f"traces {expected_sequence} to {sequence - 1} are")
            problems.append(ChainProblem(sequence, f"{missing} missing (deleted?)"))
        elif sequence < expected_sequence:
            # Ordered by sequence, this only happens with duplicate or non-positive numbers.
            problems.append(ChainProblem(sequence, f"out of order: expected sequence {expected_sequence}"))
        if trace.previous_hash != previous_hash:
            problems.append(ChainProblem(
                sequence,
                "its previous_hash does not match the hash of the trace before it "
                "(a trace before it was deleted, moved or rewritten)",
            ))
        if trace.hash != chain_hash(trace.previous_hash or "", trace):
            problems.append(ChainProblem(sequence, "its content does not match its hash (edited)"))
        expected_sequence = sequence + 1
        previous_hash = trace.hash or ""
    if head is not None:
        last = expected_sequence - 1
        if head.sequence > last:
            missing = f"trace {head.sequence} is" if head.sequence == last + 1 else \
                f"traces {last + 1} to {head.sequence} are"
            problems.append(ChainProblem(head.sequence, f"{missing} missing: the chain head records sequence "
                                                        f"{head.sequence} but the last trace is {last}"))
        elif head.sequence == last and last > 0 and head.hash != previous_hash:
            problems.append(ChainProblem(last, "its hash differs from the one the chain head recorded "
                                               "(the last trace was replaced)"))
        elif head.sequence < last:
            problems.append(ChainProblem(head.sequence + 1, f"traces after {head.sequence}, the chain head, "
                                                            "were added without the store (inserted?)"))
    return count, problems
