"""ebXML Registry 3.0 namespaces (OASIS regrep-rim / regrep-rs 3.0) and their qualified names."""

RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
QUERY = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"
XDSB = "urn:ihe:iti:xds-b:2007"
XML = "http://www.w3.org/XML/1998/namespace"

NSMAP = {"rim": RIM, "rs": RS, "lcm": LCM, "query": QUERY}


def rim(local: str) -> str:
    return f"{{{RIM}}}{local}"


def rs(local: str) -> str:
    return f"{{{RS}}}{local}"


def lcm(local: str) -> str:
    return f"{{{LCM}}}{local}"


class ResponseStatus:
    """RegistryResponse status values (ebRS 3.0 §2.1.3.3; PartialSuccess from ITI TF-3 §4.2.4.2)."""

    SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
    FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
    PARTIAL_SUCCESS = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"


#: XOP 1.0 §2.1. Also in :mod:`gateway.soap.namespaces`; repeated here because the ebXML layer
#: writes and reads ``xop:Include`` inside XDS.b Document elements without depending on the SOAP layer.
XOP = "http://www.w3.org/2004/08/xop/include"


def xdsb(local: str) -> str:
    return f"{{{XDSB}}}{local}"


def xop(local: str) -> str:
    return f"{{{XOP}}}{local}"
