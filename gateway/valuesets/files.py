"""The project's compact value-set files: read, write, load a folder.

One UTF-8 file per value set or correspondence table, named ``<name>.tsv``
(the format is described in ``profiles/ci-sis/README.md``)::

    # name: JDV_J08_XdsConfidentialityCode_CISIS
    # oid: 1.2.250.1.213.1.1.5.463
    # version: 20200424120000
    # kind: valueset
    # source: https://mos.esante.gouv.fr/NOS/JDV_J08-XdsConfidentialityCode-CISIS
    code<TAB>codeSystem<TAB>displayName
    N<TAB>2.16.840.1.113883.5.25<TAB>Normal

A correspondence table (``kind: correspondence``) has the columns
``key, keySystem, code, codeSystem, displayName``; a key may repeat when it
gives several codes.  After the column row, a line starting with ``#`` is a
comment (``# added: …`` explains a row we added to an ANS table).

The values are codes published by the ANS (Agence du Numérique en Santé,
https://mos.esante.gouv.fr/NOS/); the layout is ours: plain text that diffs
well and needs no parser beyond this module.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .model import Concept, Correspondence, ValueSet, ValueSets

__all__ = [
    "CI_SIS_DIR",
    "Unrepresentable",
    "ci_sis_value_sets",
    "file_name",
    "file_text",
    "load_value_sets",
    "load_value_sets_with",
    "read_any_file",
    "read_any_text",
    "read_correspondence_file",
    "read_value_set_file",
    "write_any_file",
    "write_correspondence_file",
    "write_value_set_file",
]

#: The CI-SIS value sets ship beside the package (``profiles/ci-sis/valuesets/`` at the project root).
CI_SIS_DIR = Path(__file__).resolve().parent.parent.parent / "profiles" / "ci-sis" / "valuesets"

SUFFIX = ".tsv"
VALUESET, CORRESPONDENCE = "valueset", "correspondence"
COLUMNS = {
    VALUESET: ("code", "codeSystem", "displayName"),
    CORRESPONDENCE: ("key", "keySystem", "code", "codeSystem", "displayName"),
}
HEADER_KEYS = ("name", "oid", "version", "kind", "source")

# A header line is ``# key: value`` with a lowercase word as key; any other
# ``#`` line before the column row is a comment.
_HEADER_LINE = re.compile(r"#\s*([a-z]+)\s*:\s?(.*)")
# Names become file names: nothing that could leave the folder or need quoting.
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class Unrepresentable(ValueError):
    """A value the compact format cannot hold as it is (a tab, a line break, a code read back as a comment…)."""


def file_name(name: str) -> str:
    """The file a value set or table of that name is stored in; refuses names unfit for a file name."""
    if not _SAFE_NAME.fullmatch(name) or name.endswith(SUFFIX):
        raise ValueError(f"{name!r} cannot name a value-set file (letters, digits, '_', '.', '-' only)")
    return name + SUFFIX


@dataclass
class ParsedFile:
    """A file as read, before it becomes a ValueSet or a Correspondence."""

    path: Path
    header: dict[str, str]
    rows: list[tuple[int, tuple[str, ...]]]  # (line number, fields)
    #: Line number of a row → the ``# added: …`` comment just above it.
    added: dict[int, str] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.header["kind"]


def _fail(path: Path, line: int | None, message: str) -> ValueError:
    where = f"{path}, line {line}" if line else str(path)
    return ValueError(f"{where}: {message}")


def parse_file(path: Path) -> ParsedFile:
    """Read a compact file's header and rows, checking its shape (not yet its codes)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(path, None, f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    return parse_text(text, path)


def parse_text(text: str, path: Path) -> ParsedFile:
    """:func:`parse_file` on the text of a file; ``path`` names it in errors."""
    header: dict[str, str] = {}
    columns: tuple[str, ...] | None = None
    rows: list[tuple[int, tuple[str, ...]]] = []
    added: dict[int, str] = {}
    pending_added: str | None = None
    # Split on line feeds only: str.splitlines() also breaks on U+2028, U+0085… which a display name may hold.
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if columns is None:
            if not line.strip():
                continue
            if line.startswith("#"):
                match = _HEADER_LINE.fullmatch(line)
                if match:
                    key, value = match.group(1), match.group(2).strip()
                    if key not in HEADER_KEYS:
                        raise _fail(path, number, f"unknown header key {key!r} (known: {', '.join(HEADER_KEYS)})")
                    if key in header:
                        raise _fail(path, number, f"header key {key!r} given twice")
                    header[key] = value
                continue
            columns = _check_header(path, number, header, tuple(line.split("\t")))
            continue
        if not line.strip():
            continue
        if line.startswith("#"):
            match = _HEADER_LINE.fullmatch(line)
            if match and match.group(1) == "added":
                pending_added = match.group(2).strip()
            continue
        fields = tuple(line.split("\t"))
        if len(fields) != len(columns):
            raise _fail(path, number, f"{len(fields)} tab-separated fields, expected {len(columns)} "
                                      f"({', '.join(columns)})")
        for column, value in zip(columns, fields):
            if not value and column in ("key", "code", "codeSystem"):
                raise _fail(path, number, f"empty {column}")
        rows.append((number, fields))
        if pending_added is not None:
            added[number] = pending_added
            pending_added = None
    if columns is None:
        _check_header(path, None, header, None)
        raise _fail(path, None, "no column row (expected one after the '# key: value' header lines)")
    return ParsedFile(path, header, rows, added)


def _check_header(
    path: Path, line: int | None, header: dict[str, str], columns: tuple[str, ...] | None
) -> tuple[str, ...]:
    for key in ("name", "oid", "kind"):
        if key not in header:
            raise _fail(path, line, f"missing header line '# {key}: …' before the column row")
    kind = header["kind"]
    if kind not in COLUMNS:
        raise _fail(path, line, f"kind {kind!r} is neither {VALUESET!r} nor {CORRESPONDENCE!r}")
    # Every JDV has an OID; a correspondence table may not have a known one (ASS_A12).
    if kind == VALUESET and not header["oid"]:
        raise _fail(path, line, "empty oid (a value set is identified by its OID)")
    if not header["name"]:
        raise _fail(path, line, "empty name")
    expected = COLUMNS[kind]
    if columns is not None and columns != expected:
        raise _fail(path, line, f"column row is {'|'.join(columns)!r}, expected {'|'.join(expected)!r} "
                                f"for a {kind}")
    return expected


def _as_value_set(parsed: ParsedFile) -> ValueSet:
    seen: dict[tuple[str, str], int] = {}
    concepts = []
    for number, (code, system, display) in parsed.rows:
        if (code, system) in seen:
            raise _fail(parsed.path, number, f"{code!r} ({system}) repeats line {seen[code, system]}")
        seen[code, system] = number
        concepts.append(Concept(code, system, display))
    h = parsed.header
    return ValueSet(h["name"], h["oid"], h.get("version", ""), tuple(concepts), source=h.get("source", ""))


def _as_correspondence(parsed: ParsedFile) -> Correspondence:
    seen: dict[tuple[str, str, str], int] = {}
    key_systems: dict[str, str] = {}
    entries = []
    for number, (key, key_system, code, system, display) in parsed.rows:
        if (key, code, system) in seen:
            raise _fail(parsed.path, number, f"{key!r} → {code!r} ({system}) repeats line {seen[key, code, system]}")
        seen[key, code, system] = number
        # A key is one code of one system; two systems for it would make lookups ambiguous.
        if key_systems.setdefault(key, key_system) != key_system:
            raise _fail(parsed.path, number, f"key {key!r} has keySystem {key_system!r} here but "
                                             f"{key_systems[key]!r} above")
        entries.append((key, key_system, Concept(code, system, display)))
    h = parsed.header
    return Correspondence.of(h["name"], h["oid"], entries, version=h.get("version", ""), source=h.get("source", ""))


def _expect(parsed: ParsedFile, kind: str) -> None:
    if parsed.kind != kind:
        raise _fail(parsed.path, None, f"is a {parsed.kind}, not a {kind}")


def read_value_set_file(path: Path) -> ValueSet:
    """Read a ``kind: valueset`` file; a malformed file raises ValueError naming the file and line."""
    parsed = parse_file(path)
    _expect(parsed, VALUESET)
    return _as_value_set(parsed)


def read_correspondence_file(path: Path) -> Correspondence:
    """Read a ``kind: correspondence`` file; a malformed file raises ValueError naming the file and line."""
    parsed = parse_file(path)
    _expect(parsed, CORRESPONDENCE)
    return _as_correspondence(parsed)


def _as_item(parsed: ParsedFile) -> ValueSet | Correspondence:
    return _as_value_set(parsed) if parsed.kind == VALUESET else _as_correspondence(parsed)


def read_any_file(path: Path) -> ValueSet | Correspondence:
    return _as_item(parse_file(path))


def read_any_text(text: str, path: Path) -> ValueSet | Correspondence:
    """What :func:`read_any_file` would give for a file at ``path`` holding ``text``."""
    return _as_item(parse_text(text, Path(path)))


def _field(value: str, what: str, name: str) -> str:
    # No escaping in this format: refuse what it cannot hold rather than write a file that reads back wrong.
    if "\t" in value or "\n" in value or "\r" in value:
        raise Unrepresentable(f"{name}: {what} {value!r} holds a tab or a line break, which the file cannot carry")
    return value


def _header_lines(kind: str, name: str, oid: str, version: str, source: str) -> Iterator[str]:
    values = {"name": name, "oid": oid, "version": version, "kind": kind, "source": source}
    for key in HEADER_KEYS:
        yield f"# {key}: {_field(values[key], key, name)}".rstrip()
    yield "\t".join(COLUMNS[kind])


def write_temporary(path: Path, text: str) -> Path:
    """Write ``text`` to a new file beside ``path``, for :func:`os.replace` onto it; returns that file.

    The name is unique (two writers do not share it) and ends in ``.tmp``, so a
    folder load never sees it.  The file gets the mode of the one it replaces,
    else the usual one (0666 less the umask); its data is on disk before it is
    returned, so that the rename cannot publish an empty file after a crash.
    """
    path = Path(path)
    try:
        mode: int | None = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _write(path: Path, text: str) -> None:
    # Write beside the target then rename, so that a reader never sees half a file.
    tmp = write_temporary(path, text)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _value_set_lines(vs: ValueSet) -> Iterator[str]:
    yield from _header_lines(VALUESET, vs.name, vs.oid, vs.version, vs.source)
    for c in vs.concepts:
        first = _field(c.code, "code", vs.name)
        if first.startswith("#"):
            raise Unrepresentable(f"{vs.name}: code {first!r} would read back as a comment")
        yield "\t".join((first, _field(c.system, "codeSystem", vs.name), _field(c.display, "displayName", vs.name)))


def _correspondence_lines(table: Correspondence) -> Iterator[str]:
    yield from _header_lines(CORRESPONDENCE, table.name, table.oid, table.version, table.source)
    for key, key_system, c in table.entries():
        if key.startswith("#"):
            raise Unrepresentable(f"{table.name}: key {key!r} would read back as a comment")
        yield "\t".join(_field(v, what, table.name) for v, what in (
            (key, "key"), (key_system, "keySystem"), (c.code, "code"), (c.system, "codeSystem"),
            (c.display, "displayName"),
        ))


def file_text(item: ValueSet | Correspondence) -> str:
    """The compact file of a value set or table, as text; raises ValueError (:class:`Unrepresentable`
    for a value the format cannot carry) without writing anything."""
    file_name(item.name)
    lines = _correspondence_lines(item) if isinstance(item, Correspondence) else _value_set_lines(item)
    return "".join(line + "\n" for line in lines)


def write_value_set_file(path: Path, vs: ValueSet) -> None:
    """Write ``vs`` as a compact file (replacing ``path``)."""
    _write(path, file_text(vs))


def write_correspondence_file(path: Path, table: Correspondence) -> None:
    """Write ``table`` as a compact file (replacing ``path``)."""
    _write(path, file_text(table))


def write_any_file(path: Path, item: ValueSet | Correspondence) -> None:
    _write(path, file_text(item))


def load_value_sets(folder: Path) -> ValueSets:
    """Every ``*.tsv`` file of ``folder``; each must be named after its ``name`` header."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no value-set folder at {folder}")
    return _load((path, read_any_file(path)) for path in sorted(folder.glob("*" + SUFFIX)))


def load_value_sets_with(folder: Path, texts: Mapping[Path, str]) -> ValueSets:
    """What :func:`load_value_sets` would give once each file of ``texts`` (in ``folder``) holds its text.

    Nothing is written: this checks a change to a folder before making it.
    """
    folder = Path(folder)
    pending = {Path(path): text for path, text in texts.items()}
    for path in pending:
        if path.parent != folder or not path.name.endswith(SUFFIX):
            raise ValueError(f"{path} is not a value-set file of {folder}")
    on_disk = set(folder.glob("*" + SUFFIX)) if folder.is_dir() else set()

    def items() -> Iterator[tuple[Path, ValueSet | Correspondence]]:
        for path in sorted(on_disk | set(pending)):
            yield path, (read_any_text(pending[path], path) if path in pending else read_any_file(path))

    return _load(items())


def _load(items: Iterable[tuple[Path, ValueSet | Correspondence]]) -> ValueSets:
    value_sets: list[ValueSet] = []
    tables: list[Correspondence] = []
    for path, item in items:
        # The name is how code finds a value set: one file per name, and the file says which.
        if path.name != file_name(item.name):
            raise _fail(path, None, f"holds {item.name!r}, so it must be named {file_name(item.name)}")
        (tables if isinstance(item, Correspondence) else value_sets).append(item)
    return ValueSets.of(value_sets, tables)


@functools.cache
def ci_sis_value_sets() -> ValueSets:
    """The CI-SIS value sets shipped with the project, loaded once."""
    return load_value_sets(CI_SIS_DIR)
