"""Document bytes, behind one small interface (``BlobStore``): a folder on disk by default, or S3.

The repository (ITI-41/43) writes a document's bytes here before it commits
the metadata that points at them, and removes them if the registration
fails; a crash in between leaves an orphan blob, never metadata without its
bytes (orphans are swept later: ``list_blobs`` gives each blob's age, and
``remove_incomplete`` clears writes a killed process left half done).
"""

from .s3 import S3BlobStore
from .store import BlobEntry, BlobInfo, BlobStore, FileSystemBlobStore, new_key

__all__ = ["BlobEntry", "BlobInfo", "BlobStore", "FileSystemBlobStore", "S3BlobStore", "new_key"]
