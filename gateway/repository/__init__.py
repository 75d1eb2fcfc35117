"""The Document Repository actor: Provide and Register (ITI-41), Retrieve (ITI-43), and its blob housekeeping."""

from .provide_and_register import DocumentRepository, pair_documents
from .retrieve import DocumentRetrieval, RetrieveOutcome
from .sweep import SweepReport, sweep_orphan_blobs

__all__ = ["DocumentRepository", "DocumentRetrieval", "RetrieveOutcome", "SweepReport", "pair_documents",
           "sweep_orphan_blobs"]
