"""gateway.soap.namespaces holds transport namespaces only (the SOAP layer does not know ebXML)."""

import pathlib
import re

import gateway.ebxml.namespaces as ebxml_namespaces
import gateway.soap.namespaces as soap_namespaces

SOAP_PACKAGE = pathlib.Path(soap_namespaces.__file__).parent


def _uris(module) -> dict[str, str]:
    return {name: value for name, value in vars(module).items() if name.isupper() and isinstance(value, str)}


def test_no_ebxml_or_xdsb_namespaces_in_the_soap_layer():
    # XOP is a transport namespace that the ebXML layer repeats on purpose
    # (it reads and writes xop:Include in XDS.b Document elements).
    payload_uris = set(_uris(ebxml_namespaces).values()) - {soap_namespaces.XOP}
    duplicated = {name for name, uri in _uris(soap_namespaces).items() if uri in payload_uris}
    assert duplicated == set()
    payload_prefixes = ("urn:oasis:names:tc:ebxml-regrep:", "urn:ihe:")
    assert not any(uri.startswith(payload_prefixes) for uri in _uris(soap_namespaces).values())


def test_soap_package_does_not_import_ebxml():
    imports = re.compile(r"^\s*(?:from|import)\s+\S*ebxml", re.MULTILINE)
    for source in SOAP_PACKAGE.glob("*.py"):
        assert not imports.search(source.read_text(encoding="utf-8")), source.name
