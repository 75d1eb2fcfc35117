"""The shipped WSDL files: well-formed, and naming the ITI operations and actions."""

import pathlib

import pytest

from gateway.safexml import parse_xml
# The payload namespaces the WSDL types refer to are ebXML's, not the SOAP layer's.
from gateway.ebxml.namespaces import LCM, QUERY, RS, XDSB
from gateway.soap.namespaces import WSAM, WSDL, WSDL_SOAP12, XSD

WSDL_DIR = pathlib.Path(__file__).resolve().parents[2] / "wsdl"

REGISTRY = {
    "DocumentRegistry_RegisterDocumentSet-b": (
        ("lcm", LCM, "SubmitObjectsRequest"), "urn:ihe:iti:2007:RegisterDocumentSet-b",
        ("rs", RS, "RegistryResponse"), "urn:ihe:iti:2007:RegisterDocumentSet-bResponse",
    ),
    "DocumentRegistry_RegistryStoredQuery": (
        ("query", QUERY, "AdhocQueryRequest"), "urn:ihe:iti:2007:RegistryStoredQuery",
        ("query", QUERY, "AdhocQueryResponse"), "urn:ihe:iti:2007:RegistryStoredQueryResponse",
    ),
    "DocumentRegistry_UpdateDocumentSet": (
        ("lcm", LCM, "SubmitObjectsRequest"), "urn:ihe:iti:2010:UpdateDocumentSet",
        ("rs", RS, "RegistryResponse"), "urn:ihe:iti:2010:UpdateDocumentSetResponse",
    ),
}
REPOSITORY = {
    "DocumentRepository_ProvideAndRegisterDocumentSet-b": (
        ("xdsb", XDSB, "ProvideAndRegisterDocumentSetRequest"), "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
        ("rs", RS, "RegistryResponse"), "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse",
    ),
    "DocumentRepository_RetrieveDocumentSet": (
        ("xdsb", XDSB, "RetrieveDocumentSetRequest"), "urn:ihe:iti:2007:RetrieveDocumentSet",
        ("xdsb", XDSB, "RetrieveDocumentSetResponse"), "urn:ihe:iti:2007:RetrieveDocumentSetResponse",
    ),
}
CASES = [
    ("XDS.b_DocumentRegistry.wsdl", REGISTRY, "http://localhost:8080/xds/registry"),
    ("XDS.b_DocumentRepository.wsdl", REPOSITORY, "http://localhost:8080/xds/repository"),
]


def _resolve(element, qname: str) -> tuple[str, str]:
    prefix, _, local = qname.partition(":")
    return element.nsmap[prefix], local


def _message_element(root, message_qname: str, context) -> tuple[str, str]:
    namespace, name = _resolve(context, message_qname)
    assert namespace == root.get("targetNamespace")
    message = root.find(f"{{{WSDL}}}message[@name='{name}']")
    parts = message.findall(f"{{{WSDL}}}part")
    assert len(parts) == 1
    return _resolve(parts[0], parts[0].get("element"))


@pytest.mark.parametrize(("filename", "operations", "address"), CASES)
def test_wsdl_operations_and_actions(filename, operations, address):
    root = parse_xml((WSDL_DIR / filename).read_bytes())
    assert root.tag == f"{{{WSDL}}}definitions"
    port_type = root.find(f"{{{WSDL}}}portType")
    found = {}
    for operation in port_type.findall(f"{{{WSDL}}}operation"):
        input_, output = operation.find(f"{{{WSDL}}}input"), operation.find(f"{{{WSDL}}}output")
        found[operation.get("name")] = (
            _message_element(root, input_.get("message"), input_),
            input_.get(f"{{{WSAM}}}Action"),
            _message_element(root, output.get("message"), output),
            output.get(f"{{{WSAM}}}Action"),
        )
    expected = {
        name: ((in_el[1], in_el[2]), in_action, (out_el[1], out_el[2]), out_action)
        for name, (in_el, in_action, out_el, out_action) in operations.items()
    }
    assert found == expected

    binding = root.find(f"{{{WSDL}}}binding")
    assert binding.find(f"{{{WSDL_SOAP12}}}binding").get("style") == "document"
    bound = {
        operation.get("name"): operation.find(f"{{{WSDL_SOAP12}}}operation").get("soapAction")
        for operation in binding.findall(f"{{{WSDL}}}operation")
    }
    assert bound == {name: values[1] for name, values in operations.items()}
    uses = {body.get("use") for body in binding.iter(f"{{{WSDL_SOAP12}}}body")}
    assert uses == {"literal"}

    addresses = [element.get("location") for element in root.iter(f"{{{WSDL_SOAP12}}}address")]
    assert addresses == [address]


@pytest.mark.parametrize("filename", [case[0] for case in CASES])
def test_wsdl_imports_no_remote_schema(filename):
    root = parse_xml((WSDL_DIR / filename).read_bytes())
    imports = list(root.iter(f"{{{XSD}}}import"))
    assert imports
    assert all(element.get("schemaLocation") is None for element in imports)
