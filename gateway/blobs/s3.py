"""The S3 blob store: blobs as objects in a bucket, under an optional prefix.

Works with Amazon S3 and with S3-compatible servers (SeaweedFS, MinIO, …)
reached through ``endpoint_url``. It keeps the folder store's promises:

* ``put`` streams. It hashes and counts on the way and holds about one part
  (``part_size``) of data at a time: a small blob is one ``PutObject``, a
  larger one a multipart upload, whose object only appears once the upload
  is completed. A failed upload is aborted, so it leaves nothing behind;
  one cut short by a killed process stays pending (and billed) until
  :meth:`S3BlobStore.remove_incomplete` aborts it.
* A key is written once: ``put`` refuses a key that exists. S3 offers no
  portable create-if-absent, so the check (``HeadObject``) and the write are
  two requests and two writers of the same key could both pass the check.
  Keys are 128 random bits chosen by the writer, so that race would need a
  caller bug; the check is there to catch such bugs, not to arbitrate it.

Credentials come from boto3's usual chain (environment, shared files,
instance role); tests inject a ``client`` of their own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from .store import CHUNK_SIZE, BlobEntry, BlobInfo, check_key, is_key

MIN_PART_SIZE = 5 * 1024 * 1024  # S3 refuses smaller parts, except the last one

# S3 says "not found" in several ways: HeadObject has no body, hence only the status.
_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


class S3BlobStore:
    """Blobs as objects ``<prefix><key>`` in ``bucket`` (see the module docstring)."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        client=None,
        part_size: int = 8 * 1024 * 1024,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} octets (the S3 minimum)")
        self.bucket = bucket
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.part_size = part_size
        self.client = client if client is not None else _client(endpoint_url, region)

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, chunks: Iterable[bytes]) -> BlobInfo:
        name = self._name(key)
        if self.exists(key):
            raise FileExistsError(f"blob {key} already exists")
        digest, size = hashlib.sha1(), 0
        buffer = bytearray()
        upload = None
        try:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                buffer += chunk
                if len(buffer) >= self.part_size:
                    # Parts need not be equal: sending the whole buffer avoids copying a slice.
                    if upload is None:
                        upload = _Multipart(self.client, self.bucket, name)
                    upload.send(buffer)
                    buffer = bytearray()
            if upload is None:
                self.client.put_object(Bucket=self.bucket, Key=name, Body=bytes(buffer))
            else:
                if buffer:
                    upload.send(buffer)
                upload.complete()
        except BaseException:
            if upload is not None:
                upload.abort()
            raise
        return BlobInfo(key, size, digest.hexdigest())

    def read(self, key: str) -> Iterator[bytes]:
        # The request is made now, so that a missing blob fails here, not at the first chunk.
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if _not_found(exc):
                raise KeyError(key) from None
            raise
        return _chunks_of(response["Body"])

    def delete(self, key: str) -> None:
        # S3 deletes are idempotent already: a missing object is a success.
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def exists(self, key: str) -> bool:
        # A missing bucket also answers a bare 404 here; the next write or read tells which.
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if _not_found(exc):
                return False
            raise
        return True

    def list_blobs(self) -> Iterator[BlobEntry]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for obj in page.get("Contents", ()):
                key = obj["Key"][len(self.prefix):]
                if is_key(key):
                    yield BlobEntry(key, _utc(obj["LastModified"]))

    def remove_incomplete(self, older_than: datetime) -> int:
        pages = self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=self.prefix)
        removed = 0
        # Collected first: aborting while paginating could shift the listing under us.
        stale = [
            upload
            for page in pages
            for upload in page.get("Uploads", ())
            if is_key(upload["Key"][len(self.prefix):]) and _utc(upload["Initiated"]) < older_than
        ]
        for upload in stale:
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                    raise
                continue  # completed or aborted meanwhile by someone else
            removed += 1
        return removed

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix} at {self.client.meta.endpoint_url}"


class _Multipart:
    """One multipart upload in progress: created on the first part, then completed or aborted."""

    def __init__(self, client, bucket: str, name: str) -> None:
        self.client, self.bucket, self.name = client, bucket, name
        self.upload_id = client.create_multipart_upload(Bucket=bucket, Key=name)["UploadId"]
        self.parts: list[dict] = []

    def send(self, data: bytearray) -> None:
        number = len(self.parts) + 1
        response = self.client.upload_part(
            Bucket=self.bucket, Key=self.name, UploadId=self.upload_id, PartNumber=number, Body=data
        )
        self.parts.append({"PartNumber": number, "ETag": response["ETag"]})

    def complete(self) -> None:
        self.client.complete_multipart_upload(
            Bucket=self.bucket, Key=self.name, UploadId=self.upload_id, MultipartUpload={"Parts": self.parts}
        )

    def abort(self) -> None:
        # Best effort: the original error matters more, and remove_incomplete catches what is left.
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.name, UploadId=self.upload_id)
        except Exception:
            pass


def _client(endpoint_url: str | None, region: str | None):
    # Imported here: boto3 takes a noticeable time to import, and only this store needs it.
    import boto3
    from botocore.config import Config

    # S3-compatible servers seldom have a DNS name per bucket: address buckets in the path.
    config = Config(s3={"addressing_style": "path"}) if endpoint_url else None
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)


def _not_found(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in _NOT_FOUND


def _utc(moment: datetime) -> datetime:
    # botocore reads zone-less server times as local time; compare and show them in UTC.
    return moment.astimezone(UTC)


def _chunks_of(body) -> Iterator[bytes]:
    with body:
        yield from body.iter_chunks(CHUNK_SIZE)
