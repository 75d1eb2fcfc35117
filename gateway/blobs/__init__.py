"""Document bytes, behind one small interface (``BlobStore``): a folder on disk by default.

The repository (ITI-41/43) writes a document's bytes here before it commits
the metadata that points at them, and removes them if the registration
fails; a crash in between leaves an orphan blob, never metadata without its
bytes (orphans are swept later).
"""

from .store import BlobInfo, BlobStore, FileSystemBlobStore, new_key

__all__ = ["BlobInfo", "BlobStore", "FileSystemBlobStore", "new_key"]
