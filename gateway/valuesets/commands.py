"""``xds-gateway valuesets import|list``: refresh the compact files from ANS SVS exports, show them.

An import reads every file first and writes only if all of them are valid,
so a bad file leaves the folder as it was.  Each new file is built in memory
and must read back as the value set imported, and the folder with the new
files must load (:func:`load_value_sets`) — the shipped folder is what the
gateway loads at start — before anything is written.  Exit status: 0 done,
1 an input is unreadable or not an SVS value set (or a write failed), 2 an
input holds what the files cannot (a tab or line break in a field, a code
starting with ``#``, a key under two code systems, conflicting repetitions).
Files are replaced atomically (a temporary file renamed onto each).  A value set is identified by its
OID: when the folder already holds a file with the same OID, that file is
replaced and keeps its name, so that our short table names
(``ASS_A11_ModeleCDA_FormatCode``) survive a refresh from the NOS export
(``ASS_A11-CorresModeleCDA-XdsFormatCode-CISIS``).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from .files import (
    CI_SIS_DIR,
    Unrepresentable,
    ci_sis_value_sets,
    file_name,
    file_text,
    load_value_sets,
    load_value_sets_with,
    parse_file,
    read_any_file,
    read_any_text,
    write_temporary,
)
from .model import Correspondence, ValueSet

Item = ValueSet | Correspondence


def _size(item: Item) -> str:
    unit = "rows" if isinstance(item, Correspondence) else "concepts"
    return f"{len(item)} {unit}"


def _rows(item: Item) -> list[tuple[str, ...]]:
    if isinstance(item, Correspondence):
        return [(key, c.code, c.system) for key, _, c in item.entries()]
    return [(c.code, c.system) for c in item.concepts]


def _existing(folder: Path) -> dict[str, Path]:
    """OID → file, for the files already in ``folder``."""
    by_oid: dict[str, Path] = {}
    for path in sorted(folder.glob("*.tsv")):
        item = read_any_file(path)
        if item.oid:
            by_oid[item.oid] = path
    return by_oid


def _describe_change(old_path: Path, new: Item) -> tuple[str, list[str]]:
    """``old → new counts``, and warnings about rows added by hand that the new version drops."""
    old_item = read_any_file(old_path)
    old_rows, new_rows = _rows(old_item), _rows(new)
    removed = [row for row in old_rows if row not in set(new_rows)]
    added = len([row for row in new_rows if row not in set(old_rows)])
    # Rows we added by hand (``# added:``) are lost by a refresh that lacks them: say so, they may need re-adding.
    parsed = parse_file(old_path)
    fields_at = dict(parsed.rows)
    key_columns = (0, 2, 3) if isinstance(new, Correspondence) else (0, 1)
    warnings = []
    for number, note in parsed.added.items():
        row = tuple(fields_at[number][i] for i in key_columns)
        if row not in set(new_rows):
            warnings.append(f"drops {' '.join(row)}, added by hand ({note})")
    return f"{len(old_item)} → {_size(new)} (+{added}, -{len(removed)})", warnings


def _same(a: Item, b: Item) -> bool:
    """Equal in everything a file records, order included (dataclass equality skips ``source``)."""
    if type(a) is not type(b) or a != b or a.source != b.source:
        return False
    if isinstance(a, Correspondence):
        return list(a.entries()) == list(b.entries())
    return True


@dataclasses.dataclass
class _Target:
    origin: Path  # the SVS file
    item: Item
    notes: list[str]
    text: str = ""


def _write_all(texts: dict[Path, str]) -> None:
    """Write every file beside its target first, then rename each onto its target."""
    temporaries: dict[Path, Path] = {}
    try:
        for path, text in texts.items():
            temporaries[path] = write_temporary(path, text)
        for path, tmp in list(temporaries.items()):
            os.replace(tmp, path)
            del temporaries[path]
    finally:
        for tmp in temporaries.values():
            tmp.unlink(missing_ok=True)


def import_files(paths: Sequence[Path], into: Path | None = None, *, out: TextIO | None = None,
                 err: TextIO | None = None) -> int:
    """Import SVS files into ``into`` (default: the shipped CI-SIS folder); returns an exit status."""
    from .svs import read_svs_file  # lxml is only needed here

    # Looked up at call time, not bound as defaults, so that a redirected sys.stdout is honoured.
    out, err = out or sys.stdout, err or sys.stderr

    folder = Path(into) if into is not None else CI_SIS_DIR
    status = 0

    def refuse(message: str, code: int) -> None:
        nonlocal status
        print(f"xds-gateway: {message}", file=err)
        status = max(status, code)

    def stop() -> int:
        print(f"xds-gateway: nothing was written to {folder}", file=err)
        return status

    # 1. Read every input, reporting each one that fails.
    read: list[_Target] = []
    for origin in map(Path, paths):
        notes: list[str] = []
        try:
            read.append(_Target(origin, read_svs_file(origin, notes=notes), notes))
        except Unrepresentable as exc:
            refuse(str(exc), 2)
        except (OSError, ValueError) as exc:
            refuse(str(exc), 1)
    try:
        by_oid = _existing(folder)
    except (OSError, ValueError) as exc:
        refuse(str(exc), 1)
    if status:
        return stop()

    # 2. Where each goes: the file with the same OID keeps its name.
    targets: dict[Path, _Target] = {}
    for target in read:
        item = target.item
        path = by_oid.get(item.oid)
        if path is not None and path.stem != item.name:
            target.item = item = dataclasses.replace(item, name=path.stem)
        path = folder / file_name(item.name)
        if path in targets:
            refuse(f"two of the files given are {item.name} ({item.oid})", 1)
            return stop()
        targets[path] = target

    # 3. Build each file in memory; it must read back as what was imported.
    for path, target in targets.items():
        where = f"{target.origin}: {target.item.name}"
        try:
            target.text = file_text(target.item)
            back = read_any_text(target.text, path)
        except Unrepresentable as exc:
            refuse(f"{target.origin}: {exc}", 2)
            continue
        except ValueError as exc:
            refuse(f"{where}: its file would not read back: {exc}", 2)
            continue
        if not _same(back, target.item):
            refuse(f"{where}: its file would not read back as the value set imported", 2)
    if status:
        return stop()

    # 4. The folder, with the new files, must still load.
    texts = {path: target.text for path, target in targets.items()}
    try:
        load_value_sets_with(folder, texts)
    except (OSError, ValueError) as exc:
        refuse(f"the folder would no longer load: {exc}", 2)
        return stop()

    report: list[str] = []
    for path, target in targets.items():
        item = target.item
        what = f"{item.name} ({item.oid}, version {item.version or '?'})"
        if path.exists():
            change, warnings = _describe_change(path, item)
        else:
            change, warnings = _size(item), []
        report.append(f"{what}: {change} → {path}")
        report += [f"  warning: {w}" for w in warnings] + [f"  note: {n}" for n in target.notes]

    # 5. Write.
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_all(texts)
    except OSError as exc:
        refuse(f"cannot write to {folder}: {exc}", 1)
        return status
    if folder.resolve() == CI_SIS_DIR.resolve():
        ci_sis_value_sets.cache_clear()
    for line in report:
        print(line, file=out)
    return 0


def _table(rows: Iterable[tuple[str, ...]]) -> list[str]:
    rows = list(rows)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))] if rows else []
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]


def list_sets(folder: Path | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Print the value sets and tables of ``folder`` (default: the shipped CI-SIS folder)."""
    out, err = out or sys.stdout, err or sys.stderr
    folder = Path(folder) if folder is not None else CI_SIS_DIR
    try:
        sets = load_value_sets(folder)
    except (OSError, ValueError) as exc:
        print(f"xds-gateway: {exc}", file=err)
        return 1
    items: list[Item] = [*sets.value_sets.values(), *sets.correspondences.values()]
    rows = [("name", "oid", "version", "size")]
    rows += [(i.name, i.oid or "-", i.version or "-", _size(i)) for i in sorted(items, key=lambda i: i.name)]
    for line in _table(rows):
        print(line, file=out)
    print(f"{len(sets.value_sets)} value sets, {len(sets.correspondences)} correspondence tables in {folder}",
          file=out)
    return 0
