"""HL7 v3 TS (CDA R2 timestamps) to XDS DTM (UTC).

A CDA R2 timestamp is ``YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+|-ZZzz]``
(HL7 v3 Data Types R1, TS); the CI-SIS requires the time-zone offset from
hour precision on. An XDS DTM is ``YYYY[MM[DD[hh[mm[ss]]]]]`` in UTC (ITI
TF-3 §4.2.3.1.7), so the mapping of effectiveTime to creationTime (and of
serviceEvent/effectiveTime to serviceStart/StopTime) converts to UTC and
drops the fraction of a second, keeping the precision the document chose.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from gateway.metadata.hl7v2 import DTM

# ASCII digits only ([0-9], not \d), matched with fullmatch.
_TS_RE = re.compile(r"(?P<digits>[0-9]{4}(?:[0-9]{2}){0,5})(?P<fraction>\.[0-9]{1,4})?(?P<zone>[+-][0-9]{4})?")
_FORMATS = {10: "%Y%m%d%H", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}


def ts_to_dtm(value: str | None) -> DTM | None:
    """The UTC DTM of an HL7 TS, at the TS's own precision; None when ``value`` is not a TS.

    A TS without a time zone is taken as is (there is nothing to convert it
    with). A TS of day precision or coarser is kept as is too: a date has no
    instant to shift, and the CI-SIS gives dates without a zone anyway.
    """
    if value is None:
        return None
    match = _TS_RE.fullmatch(value.strip())
    if match is None:
        return None
    digits, fraction, zone = match.group("digits", "fraction", "zone")
    if fraction and len(digits) != 14:
        return None  # a fraction of a second needs the seconds
    dtm = DTM(digits)
    if not dtm.is_valid:
        return None
    if zone is None or len(digits) <= 8:
        return dtm
    hours, minutes = int(zone[1:3]), int(zone[3:5])
    if hours > 14 or minutes > 59:
        return None  # no time zone is further than 14 hours from UTC
    offset = timedelta(hours=hours, minutes=minutes)
    local = datetime.strptime(digits, _FORMATS[len(digits)])
    try:
        utc = local - offset if zone[0] == "+" else local + offset
    except OverflowError:
        return None  # 0001-01-01 east of UTC, 9999-12-31 west of it: before year 1 or after 9999 in UTC
    # Formatted by hand: strftime("%Y") does not pad a year before 1000 to four digits on every platform.
    full = f"{utc.year:04d}{utc.month:02d}{utc.day:02d}{utc.hour:02d}{utc.minute:02d}{utc.second:02d}"
    return DTM(full[: len(digits)])


def same_instant(entry: DTM, cda: DTM) -> bool:
    """True when the metadata value ``entry`` says what the CDA value ``cda`` says.

    ``entry`` must be at least as precise as ``cda`` and agree with it at
    ``cda``'s precision: the metadata may state an instant the document gives
    to the day, but not a year for an instant the document gives to the second.
    """
    n = len(cda.value)
    return len(entry.value) >= n and entry.value[:n] == cda.value
