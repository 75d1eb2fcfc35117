"""The Document Repository's transactions as plain values: ITI-41 in, ITI-43 in and out.

Document bytes are carried as any bytes-like object (``bytes``, or a
``memoryview`` over the request body): a 100 MB document must not be copied
on its way from the HTTP request to the blob store. What comes out of the
repository (ITI-43) is not bytes at all but a way to read them in chunks,
opened only when the answer is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .model import Submission

#: Bytes of a document as received, not copied: bytes, bytearray or memoryview.
Buffer = bytes | bytearray | memoryview


@dataclass
class Document:
    """One ``xdsb:Document`` of a Provide and Register request (ITI TF-2 §3.41.4.1.2).

    ``entry_id`` is the element's ``id`` attribute: the id (symbolic or
    ``urn:uuid``) of the DocumentEntry it is the content of.
    """

    entry_id: str
    data: Buffer


@dataclass
class ProvideAndRegisterDocumentSet:
    """ITI-41: the metadata of a submission and the content of its documents."""

    submission: Submission
    documents: list[Document] = field(default_factory=list)


@dataclass(frozen=True)
class DocumentReference:
    """One ``xdsb:DocumentRequest`` of ITI-43 (ITI TF-2 §3.43.4.1.2), and what identifies a DocumentResponse."""

    repository_unique_id: str
    document_unique_id: str
    home_community_id: str | None = None


@dataclass
class RetrievedDocument:
    """A document found by ITI-43: its identity, type and size, and how to read its bytes.

    ``content`` is called once, when the answer is sent, and yields the
    bytes in chunks; nothing is read before.
    """

    reference: DocumentReference
    mime_type: str
    size: int
    content: Callable[[], Iterable[bytes]]
