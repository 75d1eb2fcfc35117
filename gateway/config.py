"""Gateway configuration: embedded defaults, an optional TOML file, then environment variables.

Precedence, lowest first: the defaults below (SQLite and documents under
``./var``, no server to install), the TOML file named by ``XDSGW_CONFIG``,
then ``XDSGW_*`` environment variables. The TOML file uses the same names
without the prefix, in lower case (``database_url = "…"``).
"""

from __future__ import annotations

import os
import re
import tomllib
import typing
from dataclasses import dataclass, fields, replace
from enum import Enum
from pathlib import Path
from typing import Mapping

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .validation import PatientPolicy

ENV_PREFIX = "XDSGW_"


class Profile(str, Enum):
    IHE = "ihe"
    CI_SIS = "ci-sis"


class BlobStoreKind(str, Enum):
    FOLDER = "folder"
    S3 = "s3"


class Auth(str, Enum):
    #: Every XDS.b request must carry a VIHF (signed SAML 2.0 assertion) the trust store vouches for.
    VIHF = "vihf"
    #: No authentication: every request is served as a local stand-in actor. Local trials only.
    NONE = "none"


class ConfigError(ValueError):
    """A setting has a value the gateway cannot use; the message names it."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("./var")
    database_url: str = ""
    profile: Profile = Profile.CI_SIS
    #: CDA R2 schema (``CDA_extended.xsd``) that ITI-41 CDA documents must validate against under
    #: ``ci-sis``; empty: no schema validation (the header is still checked against the metadata).
    cda_schema: str = ""
    #: ``auto``: a first submission opens the patient's dossier; ``registered``:
    #: the dossier must exist, or ITI-42 answers XDSUnknownPatientId.
    patient_policy: PatientPolicy = PatientPolicy.AUTO
    #: The repository's OID (XDS repositoryUniqueId); used by ITI-41 and ITI-43.
    repository_unique_id: str = "1.2.250.1.999.1.1.1"
    #: Largest SOAP request accepted by the registry (ITI-42, ITI-18), in bytes.
    max_request_bytes: int = 64 * 1024 * 1024
    #: Largest SOAP request accepted by the repository (ITI-41 carries the documents), in bytes.
    #: A request is held in memory once while it is handled.
    max_repository_request_bytes: int = 256 * 1024 * 1024
    #: Where document bytes go: ``folder`` (``blob_dir``) or ``s3`` (S3-compatible object storage).
    blob_store: BlobStoreKind = BlobStoreKind.FOLDER
    #: Folder of the ``folder`` blob store; empty means ``<data_dir>/documents``.
    blob_dir: str = ""
    #: Bucket, key prefix, endpoint (empty: AWS) and region of the ``s3`` blob store.
    #: Credentials come from the usual AWS variables or files (AWS_ACCESS_KEY_ID, …).
    s3_bucket: str = ""
    #: Never empty: the blob sweep removes unreferenced objects under it, and a
    #: bucket's top level may hold other applications' objects.
    s3_prefix: str = "xds-gateway"
    s3_endpoint_url: str = ""
    s3_region: str = ""
    #: Most objects a stored query (ITI-18) may return; more is XDSTooManyResults.
    max_results: int = 10_000
    #: Longest a stored query may run on PostgreSQL before it is stopped (XDSRegistryError).
    query_timeout_ms: int = 30_000
    #: ``vihf``: every XDS.b request must carry a VIHF signed by a certificate the trust store
    #: vouches for; ``none``: no authentication (local trials only).
    auth: Auth = Auth.VIHF
    #: Folder of the CA certificates (``*.pem``) that VIHF signers must chain to; empty means
    #: ``<data_dir>/trust``. Read at start.
    trust_dir: str = ""
    #: The administrators' bearer token for ``/api`` and ``/fhir`` (at least 32 characters); empty:
    #: no administrator can sign in (patients still read their own traces with their VIHF).
    admin_token: str = ""
    #: IHE ATNA audit messages streamed as RFC 5424 syslog to a collector: ``tcp://host:port`` or
    #: ``tls://host:port`` (RFC 5425); empty: off. Traces are kept in the database either way.
    atna_syslog: str = ""
    #: TLS of ``atna_syslog``: CA certificates to verify the collector with (empty: the system's),
    #: and the gateway's own certificate and key when the collector asks for one (mutual TLS).
    atna_ca_file: str = ""
    atna_cert_file: str = ""
    atna_key_file: str = ""
    #: Server worker threads for `serve`.
    threads: int = 8
    log_level: str = "INFO"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'registry.sqlite3').resolve()}"

    @property
    def server_body_limit(self) -> int:
        """What the HTTP server itself accepts: twice the larger SOAP limit plus 1 MiB.

        Requests between the two limits reach the endpoint, which refuses them
        with a SOAP fault (HTTP 413) a client can read; only grossly oversized
        ones get the server's bare 413. The server spools large bodies to disk,
        so this bounds disk use, not memory.
        """
        return 2 * max(self.max_request_bytes, self.max_repository_request_bytes) + 1024 * 1024

    @property
    def effective_trust_dir(self) -> Path:
        return Path(self.trust_dir) if self.trust_dir else self.data_dir / "trust"

    @property
    def documents_dir(self) -> Path:
        return Path(self.blob_dir) if self.blob_dir else self.data_dir / "documents"


def _coerce(name: str, raw: object, kind: type) -> object:
    try:
        if kind is int:
            value = int(raw)  # type: ignore[arg-type]
            if value < 0:
                raise ValueError
            return value
        if kind is Path:
            return Path(str(raw))
        if isinstance(kind, type) and issubclass(kind, Enum):
            return kind(str(raw).lower())
        return str(raw)
    except ValueError:
        allowed = ""
        if isinstance(kind, type) and issubclass(kind, Enum):
            allowed = " (one of: " + ", ".join(m.value for m in kind) + ")"
        raise ConfigError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not a valid value{allowed}") from None


#: Each setting's type, from the dataclass itself: one list of settings, not two.
_TYPES: dict[str, type] = typing.get_type_hints(Settings)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from defaults, ``$XDSGW_CONFIG`` (TOML) and ``XDSGW_*`` variables."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    config_file = env.get(f"{ENV_PREFIX}CONFIG")
    if config_file:
        path = Path(config_file)
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"{ENV_PREFIX}CONFIG: cannot read {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{ENV_PREFIX}CONFIG: {path} is not valid TOML: {exc}") from None
        unknown = set(data) - set(_TYPES)
        if unknown:
            raise ConfigError(f"{path}: unknown setting(s): {', '.join(sorted(unknown))}")
        values.update(data)
    for f in fields(Settings):
        raw = env.get(f"{ENV_PREFIX}{f.name.upper()}")
        if raw is not None and raw != "":
            values[f.name] = raw
    coerced = {name: _coerce(name, raw, _TYPES[name]) for name, raw in values.items()}
    settings = replace(Settings(), **coerced)
    _check(settings)
    return settings


_OID = re.compile(r"[0-2](?:\.(?:0|[1-9][0-9]*))+")
_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
#: Shortest administrator token: 32 characters of a random token are ~190 bits.
MIN_ADMIN_TOKEN_CHARS = 32
_SYSLOG_URL = re.compile(r"(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})")
#: Smallest request limit that still lets a SOAP envelope through.
MIN_REQUEST_BYTES = 4096


def _check(settings: Settings) -> None:
    """Refuse values that parse but cannot work, naming the variable (a typo must not start a server)."""
    def bad(name: str, value: object, why: str) -> ConfigError:
        return ConfigError(f"{ENV_PREFIX}{name.upper()}={value!r} {why}")

    if not 0 < settings.port < 65536:
        raise bad("port", settings.port, "is not a TCP port (1 to 65535)")
    if settings.query_timeout_ms < 1:
        raise bad("query_timeout_ms", settings.query_timeout_ms, "must be at least 1")
    if settings.max_results < 1:
        raise bad("max_results", settings.max_results, "must be at least 1")
    if settings.threads < 1:
        raise bad("threads", settings.threads, "must be at least 1")
    for name in ("max_request_bytes", "max_repository_request_bytes"):
        if getattr(settings, name) < MIN_REQUEST_BYTES:
            raise bad(name, getattr(settings, name), f"must be at least {MIN_REQUEST_BYTES}")
    if settings.cda_schema and not Path(settings.cda_schema).is_file():
        raise bad("cda_schema", settings.cda_schema, "is not a file (the path of CDA_extended.xsd)")
    if settings.trust_dir and Path(settings.trust_dir).exists() and not Path(settings.trust_dir).is_dir():
        raise bad("trust_dir", settings.trust_dir, "is not a folder (of CA certificates, *.pem)")
    if settings.admin_token and len(settings.admin_token) < MIN_ADMIN_TOKEN_CHARS:
        raise bad("admin_token", "…", f"must be at least {MIN_ADMIN_TOKEN_CHARS} characters "
                  "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
    if settings.atna_syslog and not _SYSLOG_URL.fullmatch(settings.atna_syslog):
        raise bad("atna_syslog", settings.atna_syslog, "is not tcp://host:port or tls://host:port")
    for name in ("atna_ca_file", "atna_cert_file", "atna_key_file"):
        if getattr(settings, name) and not Path(getattr(settings, name)).is_file():
            raise bad(name, getattr(settings, name), "is not a file (PEM)")
    if bool(settings.atna_cert_file) != bool(settings.atna_key_file):
        raise bad("atna_cert_file", settings.atna_cert_file, "and XDSGW_ATNA_KEY_FILE go together (mutual TLS)")
    if settings.blob_store is BlobStoreKind.S3 and not settings.s3_bucket:
        raise bad("s3_bucket", settings.s3_bucket, "must name a bucket when XDSGW_BLOB_STORE=s3")
    if settings.blob_store is BlobStoreKind.S3 and not settings.s3_prefix.strip("/"):
        raise bad("s3_prefix", settings.s3_prefix,
                  "must not be empty: `blobs sweep` removes what no document references under it")
    if settings.log_level.upper() not in _LOG_LEVELS:
        raise bad("log_level", settings.log_level, f"is not a log level (one of: {', '.join(_LOG_LEVELS)})")
    if not (_OID.fullmatch(settings.repository_unique_id) and len(settings.repository_unique_id) <= 64):
        raise bad("repository_unique_id", settings.repository_unique_id, "is not an OID of at most 64 characters")
    if settings.database_url:
        try:
            make_url(settings.database_url)
        except ArgumentError:
            raise bad("database_url", settings.database_url,
                      "is not a database URL (e.g. postgresql+psycopg://user@host:5432/db)") from None
