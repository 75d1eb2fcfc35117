"""Value sets as plain values: the codes a coded XDS attribute may take.

A value set is a set of (code, codeSystem) pairs with their display names,
identified by its OID and its ANS name (``JDV_J06_XdsClassCode_CISIS``).
Correspondence tables (``ASS_X04``: typeCode → classCode, ``ASS_A11``: CDA
model templateId → formatCode) map a key to one code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Concept:
    code: str
    system: str
    display: str = ""


@dataclass(frozen=True)
class ValueSet:
    name: str
    oid: str
    version: str = ""
    concepts: tuple[Concept, ...] = ()
    _index: Mapping[tuple[str, str], Concept] = field(default_factory=dict, compare=False, repr=False)
    #: Where the codes come from (an ANS URL, an SVS file): provenance, not identity.
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {(c.code, c.system): c for c in self.concepts})

    def __len__(self) -> int:
        return len(self.concepts)

    def __contains__(self, pair: tuple[str, str]) -> bool:
        """``(code, codeSystem) in value_set``."""
        return pair in self._index

    def get(self, code: str, system: str) -> Concept | None:
        return self._index.get((code, system))

    @property
    def systems(self) -> frozenset[str]:
        return frozenset(c.system for c in self.concepts)

    def codes_of(self, system: str) -> frozenset[str]:
        return frozenset(c.code for c in self.concepts if c.system == system)


@dataclass(frozen=True)
class Correspondence:
    """A correspondence table: each key (a typeCode, a templateId…) gives one concept."""

    name: str
    oid: str
    version: str = ""
    rows: Mapping[str, Concept] = field(default_factory=dict)
    #: The code system of each key (LOINC for a typeCode…); empty when the keys have none (a mediaType).
    key_systems: Mapping[str, str] = field(default_factory=dict)
    #: Keys that give more than one concept, with all of them in table order; ``rows`` holds the first.
    #: ASS_A11 maps the XDS-SD templateId to five formats, of which ASS_A12 picks one by mediaType.
    choices: Mapping[str, tuple[Concept, ...]] = field(default_factory=dict)
    source: str = field(default="", compare=False)

    def get(self, key: str) -> Concept | None:
        return self.rows.get(key)

    def get_all(self, key: str) -> tuple[Concept, ...]:
        """Every concept the key gives, in table order (empty if the key is absent)."""
        if key in self.choices:
            return self.choices[key]
        concept = self.rows.get(key)
        return () if concept is None else (concept,)

    def key_system(self, key: str) -> str:
        return self.key_systems.get(key, "")

    def entries(self) -> Iterator[tuple[str, str, Concept]]:
        """``(key, keySystem, concept)`` for every row, keys in table order."""
        for key in self.rows:
            for concept in self.get_all(key):
                yield key, self.key_system(key), concept

    def __len__(self) -> int:
        return sum(len(self.get_all(key)) for key in self.rows)

    @classmethod
    def of(
        cls, name: str, oid: str, entries: Iterable[tuple[str, str, Concept]], *, version: str = "", source: str = ""
    ) -> Correspondence:
        """Build a table from ``(key, keySystem, concept)`` rows; a repeated key adds a choice."""
        rows: dict[str, Concept] = {}
        key_systems: dict[str, str] = {}
        all_of: dict[str, list[Concept]] = {}
        for key, key_system, concept in entries:
            rows.setdefault(key, concept)
            if key_system:
                key_systems.setdefault(key, key_system)
            all_of.setdefault(key, []).append(concept)
        choices = {key: tuple(concepts) for key, concepts in all_of.items() if len(concepts) > 1}
        return cls(name, oid, version, rows, key_systems, choices, source=source)


@dataclass(frozen=True)
class ValueSets:
    """The value sets and correspondence tables of a profile, by name."""

    value_sets: Mapping[str, ValueSet] = field(default_factory=dict)
    correspondences: Mapping[str, Correspondence] = field(default_factory=dict)

    def __getitem__(self, name: str) -> ValueSet:
        return self.value_sets[name]

    def table(self, name: str) -> Correspondence:
        return self.correspondences[name]

    @classmethod
    def of(cls, value_sets: Iterable[ValueSet], correspondences: Iterable[Correspondence] = ()) -> ValueSets:
        return cls({v.name: v for v in value_sets}, {c.name: c for c in correspondences})
