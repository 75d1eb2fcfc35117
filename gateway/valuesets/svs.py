"""Read the ANS value-set exports, which are IHE SVS XML files.

IHE ITI TF-2 §3.48 (Sharing Value Sets, Retrieve Value Set) defines the
response: ``RetrieveValueSetResponse/ValueSet(@id, @displayName, @version)
/ConceptList/Concept(@code, @codeSystem, @displayName)`` in the namespace
``urn:ihe:iti:svs:2008``.  The ANS exports (https://mos.esante.gouv.fr/NOS/,
also in ansforge/TestContenuCDA-3-0 ``jeuxDeValeurs/``) follow it and add:

* ``@displayName`` is the file name of the set, e.g.
  ``JDV_J08_XdsConfidentialityCode_CISIS.tabs``: the name is that without
  its extension;
* ``@dateMaj`` (``20200424120000``) and ``@revisionDate`` (ISO 8601) date
  the revision; ``@version`` is often just ``test``;
* ``@urlFichier`` is the set's page on the NOS site;
* correspondence tables (``typeFichier="ASS"``, e.g. ASS_A11) carry
  ``MappedConceptList/MappedConcept`` with two ``Concept``: the source (the
  key) and the target.

What the project's files cannot hold as given is refused with
:class:`~gateway.valuesets.files.Unrepresentable` rather than changed: a key
under two code systems, the same code twice with two display names.  A
repetition identical to an earlier one is kept once, and said in ``notes``.

Files are parsed with :func:`gateway.safexml.parse_xml` (no DTD, no entity,
no network), since an import takes whatever file it is given.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from ..safexml import XmlRejected, parse_xml
from .files import Unrepresentable, file_name
from .model import Concept, Correspondence, ValueSet

__all__ = ["SVS_NS", "read_svs", "read_svs_file"]

SVS_NS = "urn:ihe:iti:svs:2008"
_NS = {"svs": SVS_NS}

#: Largest export accepted; the biggest NOS tables (CIM-10, CCAM) stay well below.
MAX_SVS_BYTES = 64 * 1024 * 1024

# "JDV_J08_XdsConfidentialityCode_CISIS.tabs" → "JDV_J08_XdsConfidentialityCode_CISIS".
_FILE_EXTENSION = re.compile(r"\.[A-Za-z]+$")


def _fail(origin: str, element: etree._Element | None, message: str, error: type[ValueError] = ValueError
          ) -> ValueError:
    line = getattr(element, "sourceline", None)
    return error(f"{origin}, line {line}: {message}" if line else f"{origin}: {message}")


def _line(element: etree._Element) -> str:
    return str(element.sourceline or "?")


def _version(vs: etree._Element) -> str:
    """The revision as ``YYYYMMDDhhmmss`` (the NOS form), else whatever ``@version`` says."""
    if vs.get("dateMaj"):
        return vs.get("dateMaj").strip()
    revision = (vs.get("revisionDate") or "").strip()
    if revision:
        # "2022-09-28T00:00:00+01:00" → "20220928000000"; the zone is dropped, as dateMaj has none.
        digits = re.sub(r"\D", "", revision.split("+")[0].rstrip("Z"))
        if len(digits) >= 8:
            return digits[:14].ljust(14, "0")
    return (vs.get("version") or "").strip()


def _concept(origin: str, element: etree._Element) -> Concept:
    code, system = element.get("code"), element.get("codeSystem")
    if not code or not system:
        raise _fail(origin, element, "a Concept without code or codeSystem")
    return Concept(code, system, element.get("displayName") or "")


def read_svs(data: bytes, *, origin: str = "SVS file", notes: list[str] | None = None
             ) -> ValueSet | Correspondence:
    """The value set (``ConceptList``) or correspondence table (``MappedConceptList``) of an SVS response.

    ``origin`` names the input in error messages and in ``source`` when the
    file has no ``@urlFichier``.  Raises ValueError when the XML is refused or
    is not an SVS value set, :class:`Unrepresentable` (a ValueError) when it
    holds what a value set or table cannot (see the module's doc).  What was
    tidied (a repetition kept once) is appended to ``notes``.
    """
    notes = notes if notes is not None else []
    try:
        root = parse_xml(data, max_bytes=MAX_SVS_BYTES)
    except XmlRejected as exc:
        raise ValueError(f"{origin}: {exc.reason}") from None
    if root.tag == f"{{{SVS_NS}}}ValueSet":
        value_sets = [root]
    else:
        value_sets = root.findall("svs:ValueSet", _NS)
    if len(value_sets) != 1:
        raise _fail(origin, root, f"expected one svs:ValueSet ({{{SVS_NS}}}), found {len(value_sets)} "
                                  f"under <{etree.QName(root).localname}>")
    vs = value_sets[0]
    oid = (vs.get("id") or "").strip()
    label = (vs.get("displayName") or "").strip()
    if not oid or not label:
        raise _fail(origin, vs, "the ValueSet has no id (OID) or no displayName (name)")
    name = _FILE_EXTENSION.sub("", label)
    try:
        file_name(name)
    except ValueError as exc:
        raise _fail(origin, vs, str(exc)) from None
    url = (vs.get("urlFichier") or "").strip()
    source = f"{url} (SVS export {Path(origin).name})" if url else f"SVS export {Path(origin).name}"
    version = _version(vs)

    mapped = vs.findall("svs:MappedConceptList/svs:MappedConcept", _NS)
    if mapped:
        entries = []
        # A table gives each key one code system (a lookup is by key alone), and each key → code once.
        key_systems: dict[str, tuple[str, etree._Element]] = {}
        seen: dict[tuple[str, str, str], tuple[Concept, etree._Element]] = {}
        for pair in mapped:
            concepts = pair.findall("svs:Concept", _NS)
            if len(concepts) != 2:
                raise _fail(origin, pair, f"a MappedConcept with {len(concepts)} Concept, expected 2 "
                                          "(the key, then its code)")
            key, target = (_concept(origin, c) for c in concepts)
            first_system, first_at = key_systems.setdefault(key.code, (key.system, pair))
            if key.system != first_system:
                raise _fail(origin, pair, f"key {key.code!r} has key system {key.system!r} here but "
                                          f"{first_system!r} in an earlier MappedConcept (line {_line(first_at)}); "
                                          "a table gives each key one code system", Unrepresentable)
            earlier = seen.get((key.code, target.code, target.system))
            if earlier is not None:
                before, at = earlier
                if before != target:
                    raise _fail(origin, pair, f"{key.code!r} → {target.code!r} ({target.system}) repeats line "
                                              f"{_line(at)} with displayName {before.display!r} (here "
                                              f"{target.display!r}); a table holds each key → code once",
                                Unrepresentable)
                notes.append(f"line {_line(pair)}: this MappedConcept repeats an earlier one (line {_line(at)}), "
                             "kept once")
                continue
            seen[key.code, target.code, target.system] = (target, pair)
            entries.append((key.code, key.system, target))
        return Correspondence.of(name, oid, entries, version=version, source=source)

    concepts: dict[tuple[str, str], Concept] = {}
    for concept_list in vs.iterfind("svs:ConceptList", _NS):
        in_this_list: dict[tuple[str, str], tuple[Concept, etree._Element]] = {}
        for element in concept_list.iterfind("svs:Concept", _NS):
            concept = _concept(origin, element)
            pair = (concept.code, concept.system)
            earlier = in_this_list.get(pair)
            if earlier is not None:
                before, at = earlier
                if before != concept:
                    raise _fail(origin, element, f"{concept.code!r} ({concept.system}) repeats line {_line(at)} "
                                                 f"with displayName {before.display!r} (here {concept.display!r})",
                                Unrepresentable)
                notes.append(f"line {_line(element)}: this Concept repeats an earlier one (line {_line(at)}), "
                             "kept once")
                continue
            in_this_list[pair] = (concept, element)
            # SVS allows one ConceptList per language: the same code in another list is a translation, keep the first.
            concepts.setdefault(pair, concept)
    if not concepts:
        raise _fail(origin, vs, "the ValueSet has no ConceptList/Concept nor MappedConceptList/MappedConcept")
    return ValueSet(name, oid, version, tuple(concepts.values()), source=source)


def read_svs_file(path: Path, *, notes: list[str] | None = None) -> ValueSet | Correspondence:
    """:func:`read_svs` on a file; a file over :data:`MAX_SVS_BYTES` is refused before it is read."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_SVS_BYTES:
        raise ValueError(f"{path}: the file is larger than {MAX_SVS_BYTES} bytes ({size} bytes)")
    with path.open("rb") as f:
        # Never more than the cap, even if the file grew since (parse_xml then refuses it).
        data = f.read(MAX_SVS_BYTES + 1)
    return read_svs(data, origin=str(path), notes=notes)
