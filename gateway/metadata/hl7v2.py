"""HL7 v2.5 data types as XDS metadata uses them (ITI TF-3 Table 4.2.3.1.7-2).

XDS carries CX, XCN, XON, XTN and DTM values as ``^``-separated strings with
``&``-separated sub-components. Each type here parses the string into named
fields and formats it back; a value that parses formats back to the same
string, trailing empty components trimmed, so that nothing a submitter sent is
lost or reshaped.

Parsing is lenient (it never raises on a badly shaped value); whether a value
is acceptable is the validators' decision (``gateway.validation``), which is
why each type keeps the raw components it could not name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

COMPONENT = "^"
SUBCOMPONENT = "&"


def _components(value: str, count: int) -> list[str]:
    parts = value.split(COMPONENT)
    return parts + [""] * (count - len(parts)) if len(parts) < count else parts


def _join(parts: list[str]) -> str:
    while parts and parts[-1] == "":
        parts = parts[:-1]
    return COMPONENT.join(parts)


@dataclass(frozen=True, slots=True)
class HD:
    """Hierarchic designator: ``namespace&universalId&universalIdType``."""

    namespace_id: str = ""
    universal_id: str = ""
    universal_id_type: str = ""

    @classmethod
    def parse(cls, value: str) -> HD:
        parts = value.split(SUBCOMPONENT) + ["", ""]
        return cls(parts[0], parts[1], SUBCOMPONENT.join(parts[2:]).rstrip(SUBCOMPONENT))

    def format(self) -> str:
        if not (self.universal_id or self.universal_id_type):
            return self.namespace_id
        return SUBCOMPONENT.join([self.namespace_id, self.universal_id, self.universal_id_type]).rstrip(SUBCOMPONENT)

    @property
    def is_iso_oid(self) -> bool:
        return self.universal_id_type == "ISO" and bool(self.universal_id)

    def __bool__(self) -> bool:
        return bool(self.namespace_id or self.universal_id or self.universal_id_type)


@dataclass(frozen=True, slots=True)
class CX:
    """Extended composite id, e.g. a patient id ``123^^^&1.2.3&ISO``.

    XDS uses components 1 (id) and 4 (assigning authority); the
    referenceIdList (CXi, ITI TF-3 §4.2.3.2.28) adds 5 (identifier type code)
    and 6 (assigning facility). Others are kept verbatim.
    """

    id: str
    assigning_authority: HD = HD()
    check_digit: str = ""
    check_digit_scheme: str = ""
    identifier_type_code: str = ""
    assigning_facility: str = ""
    rest: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: str) -> CX:
        p = _components(value, 6)
        return cls(
            id=p[0],
            check_digit=p[1],
            check_digit_scheme=p[2],
            assigning_authority=HD.parse(p[3]),
            identifier_type_code=p[4],
            assigning_facility=p[5],
            rest=tuple(p[6:]),
        )

    def format(self) -> str:
        return _join(
            [
                self.id,
                self.check_digit,
                self.check_digit_scheme,
                self.assigning_authority.format(),
                self.identifier_type_code,
                self.assigning_facility,
                *self.rest,
            ]
        )

    def key(self) -> str:
        """The patient the id names: ``id^^^&OID&ISO``, components 1 and 4 only.

        The registry indexes, compares and looks patients up by this key, so
        that ``…^NH`` (the identifier type code the CI-SIS puts on an INS) and
        the bare IHE form name the same patient.
        """
        return _join([self.id, "", "", self.assigning_authority.format()])

    @classmethod
    def of(cls, id_: str, authority_oid: str) -> CX:
        return cls(id=id_, assigning_authority=HD("", authority_oid, "ISO"))

    def __str__(self) -> str:
        return self.format()


@dataclass(frozen=True, slots=True)
class XCN:
    """Extended composite id and name for persons (authorPerson, legalAuthenticator).

    Components named by HL7 v2.5 §2.A.88: 1 id, 2 family name, 3 given name,
    4 further given names, 5 suffix, 6 prefix, 7 degree, 9 assigning
    authority, 10 name type code, 13 identifier type code. The CI-SIS author
    form ``8…^NOM^PRENOM^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS`` uses them all.
    """

    id: str = ""
    family_name: str = ""
    given_name: str = ""
    further_given_names: str = ""
    suffix: str = ""
    prefix: str = ""
    degree: str = ""
    source_table: str = ""
    assigning_authority: HD = HD()
    name_type_code: str = ""
    identifier_check_digit: str = ""
    check_digit_scheme: str = ""
    identifier_type_code: str = ""
    rest: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: str) -> XCN:
        p = _components(value, 13)
        return cls(
            id=p[0],
            family_name=p[1],
            given_name=p[2],
            further_given_names=p[3],
            suffix=p[4],
            prefix=p[5],
            degree=p[6],
            source_table=p[7],
            assigning_authority=HD.parse(p[8]),
            name_type_code=p[9],
            identifier_check_digit=p[10],
            check_digit_scheme=p[11],
            identifier_type_code=p[12],
            rest=tuple(p[13:]),
        )

    def format(self) -> str:
        return _join(
            [
                self.id,
                self.family_name,
                self.given_name,
                self.further_given_names,
                self.suffix,
                self.prefix,
                self.degree,
                self.source_table,
                self.assigning_authority.format(),
                self.name_type_code,
                self.identifier_check_digit,
                self.check_digit_scheme,
                self.identifier_type_code,
                *self.rest,
            ]
        )

    def __str__(self) -> str:
        return self.format()


@dataclass(frozen=True, slots=True)
class XON:
    """Extended composite name and id for organisations (authorInstitution).

    ITI TF-3 §4.2.3.1.7: component 1 is the name; when an id is given it sits
    in component 10, with its assigning authority in component 6 unless
    component 10 is itself an OID.
    """

    organization_name: str = ""
    type_code: str = ""
    id_number: str = ""
    check_digit: str = ""
    check_digit_scheme: str = ""
    assigning_authority: HD = HD()
    identifier_type_code: str = ""
    assigning_facility: str = ""
    name_representation_code: str = ""
    organization_identifier: str = ""
    rest: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: str) -> XON:
        p = _components(value, 10)
        return cls(
            organization_name=p[0],
            type_code=p[1],
            id_number=p[2],
            check_digit=p[3],
            check_digit_scheme=p[4],
            assigning_authority=HD.parse(p[5]),
            identifier_type_code=p[6],
            assigning_facility=p[7],
            name_representation_code=p[8],
            organization_identifier=p[9],
            rest=tuple(p[10:]),
        )

    def format(self) -> str:
        return _join(
            [
                self.organization_name,
                self.type_code,
                self.id_number,
                self.check_digit,
                self.check_digit_scheme,
                self.assigning_authority.format(),
                self.identifier_type_code,
                self.assigning_facility,
                self.name_representation_code,
                self.organization_identifier,
                *self.rest,
            ]
        )

    def __str__(self) -> str:
        return self.format()


@dataclass(frozen=True, slots=True)
class XTN:
    """Extended telecommunication number (authorTelecommunication, ITI TF-3 Table 4.2.3.1.7-2).

    XDS requires component 3 (equipment type) and either component 4 (email
    address, with type ``Internet``) or the number in components 5 to 8 or 12.
    """

    telephone_number: str = ""
    use_code: str = ""
    equipment_type: str = ""
    email_address: str = ""
    country_code: str = ""
    area_code: str = ""
    local_number: str = ""
    extension: str = ""
    rest: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: str) -> XTN:
        p = _components(value, 8)
        return cls(*p[:8], rest=tuple(p[8:]))

    def format(self) -> str:
        return _join(
            [
                self.telephone_number,
                self.use_code,
                self.equipment_type,
                self.email_address,
                self.country_code,
                self.area_code,
                self.local_number,
                self.extension,
                *self.rest,
            ]
        )

    def __str__(self) -> str:
        return self.format()


_DTM_RE = re.compile(r"[0-9]{4}(?:[0-9]{2}){0,5}")


@dataclass(frozen=True, slots=True, order=True)
class DTM:
    """A point in time in UTC at the precision the submitter chose (ITI TF-3 §4.2.3.1.7, DTM).

    XDS accepts ``YYYY[MM[DD[hh[mm[ss]]]]]`` with no fraction and no zone
    (values are UTC). Stored queries compare a DTM with a bound by truncating
    or padding to the same precision, which :meth:`lower` and :meth:`upper`
    provide as full 14-digit strings.
    """

    value: str

    PRECISIONS = (4, 6, 8, 10, 12, 14)

    @property
    def is_valid(self) -> bool:
        if not _DTM_RE.fullmatch(self.value):
            return False
        padded = self.lower()
        try:
            datetime.strptime(padded, "%Y%m%d%H%M%S")
        except ValueError:
            return False
        return True

    def lower(self) -> str:
        """Earliest instant this value covers, as ``YYYYMMDDhhmmss``."""
        v = self.value
        return v + "0101000000"[len(v) - 4 :] if len(v) < 14 else v[:14]

    def upper(self) -> str:
        """Latest instant this value covers, as ``YYYYMMDDhhmmss``."""
        v = self.value
        if len(v) >= 14:
            return v[:14]
        if len(v) == 4:
            return v + "1231235959"
        if len(v) == 6:
            year, month = int(v[:4]), int(v[4:6])
            nxt = datetime(year + (month == 12), month % 12 + 1, 1)
            last = (nxt - datetime(year, month, 1)).days
            return f"{v}{last:02d}235959"
        return v + "235959"[len(v) - 8 :]

    @classmethod
    def from_datetime(cls, moment: datetime) -> DTM:
        if moment.tzinfo is not None:
            moment = moment.astimezone(timezone.utc)
        return cls(moment.strftime("%Y%m%d%H%M%S"))

    @classmethod
    def now(cls) -> DTM:
        return cls.from_datetime(datetime.now(timezone.utc))

    def __str__(self) -> str:
        return self.value
