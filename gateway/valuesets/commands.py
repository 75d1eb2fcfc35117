"""``xds-gateway valuesets import|list``: refresh the compact files from ANS SVS exports, show them.

An import reads every file first and writes only if all of them are valid,
so a bad file leaves the folder as it was.  A value set is identified by its
OID: when the folder already holds a file with the same OID, that file is
replaced and keeps its name, so that our short table names
(``ASS_A11_ModeleCDA_FormatCode``) survive a refresh from the NOS export
(``ASS_A11-CorresModeleCDA-XdsFormatCode-CISIS``).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from .files import (
    CI_SIS_DIR,
    ci_sis_value_sets,
    file_name,
    load_value_sets,
    parse_file,
    read_any_file,
    write_any_file,
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


def _describe_change(old_path: Path, new: Item, out: TextIO) -> str:
    old_item = read_any_file(old_path)
    old_rows, new_rows = _rows(old_item), _rows(new)
    removed = [row for row in old_rows if row not in set(new_rows)]
    added = len([row for row in new_rows if row not in set(old_rows)])
    # Rows we added by hand (``# added:``) are lost by a refresh that lacks them: say so, they may need re-adding.
    parsed = parse_file(old_path)
    fields_at = dict(parsed.rows)
    key_columns = (0, 2, 3) if isinstance(new, Correspondence) else (0, 1)
    for number, note in parsed.added.items():
        row = tuple(fields_at[number][i] for i in key_columns)
        if row not in set(new_rows):
            print(f"  warning: drops {' '.join(row)}, added by hand ({note})", file=out)
    return f"{len(old_item)} → {_size(new)} (+{added}, -{len(removed)})"


def import_files(paths: Sequence[Path], into: Path | None = None, *, out: TextIO | None = None,
                 err: TextIO | None = None) -> int:
    """Import SVS files into ``into`` (default: the shipped CI-SIS folder); returns an exit status."""
    from .svs import read_svs_file  # lxml is only needed here

    # Looked up at call time, not bound as defaults, so that a redirected sys.stdout is honoured.
    out, err = out or sys.stdout, err or sys.stderr

    folder = Path(into) if into is not None else CI_SIS_DIR
    try:
        items = [read_svs_file(Path(p)) for p in paths]
        folder.mkdir(parents=True, exist_ok=True)
        by_oid = _existing(folder)
    except (OSError, ValueError) as exc:
        print(f"xds-gateway: {exc}", file=err)
        return 1
    targets: dict[Path, Item] = {}
    for item in items:
        path = by_oid.get(item.oid)
        if path is not None and path.stem != item.name:
            item = dataclasses.replace(item, name=path.stem)
        path = folder / file_name(item.name)
        if path in targets:
            print(f"xds-gateway: two of the files given are {item.name} ({item.oid})", file=err)
            return 1
        targets[path] = item
    for path, item in targets.items():
        what = f"{item.name} ({item.oid}, version {item.version or '?'})"
        change = _describe_change(path, item, out) if path.exists() else _size(item)
        write_any_file(path, item)
        print(f"{what}: {change} → {path}", file=out)
    if folder.resolve() == CI_SIS_DIR.resolve():
        ci_sis_value_sets.cache_clear()
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
