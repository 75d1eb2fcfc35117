"""XML namespace URIs used by the SOAP transport layer.

Kept in one place so that the envelope builder, the MTOM code, the WSDL
files and the tests agree on the exact strings (a one-character typo in a
namespace URI silently turns an element into a different one).

Only transport namespaces live here: the SOAP layer does not know the
payloads it carries.  The ebXML RegRep and IHE XDS.b namespaces are in
:mod:`gateway.ebxml.namespaces`.
"""

# SOAP 1.2 Part 1, §5: the envelope namespace.
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
# SOAP 1.1 envelope namespace: only recognised to answer VersionMismatch.
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"

# SOAP 1.2 Part 1, §5.2.2: the predefined roles.
ROLE_NEXT = SOAP12 + "/role/next"
ROLE_NONE = SOAP12 + "/role/none"
ROLE_ULTIMATE_RECEIVER = SOAP12 + "/role/ultimateReceiver"

# WS-Addressing 1.0 Core / SOAP Binding.
WSA = "http://www.w3.org/2005/08/addressing"
# WS-Addressing 1.0 Core §2.1: the predefined addresses.  "anonymous" asks
# for the reply on the back-channel (here, the HTTP response); "none" for no
# message at all.
WSA_ANONYMOUS = WSA + "/anonymous"
WSA_NONE = WSA + "/none"
# WS-Addressing 1.0 SOAP Binding §6: [action] of the faults that binding
# defines (wsa:ActionNotSupported, wsa:MessageAddressingHeaderRequired, ...).
WSA_FAULT_ACTION = WSA + "/fault"
# ... and of the faults defined by SOAP itself (Sender, Receiver, ...).
WSA_SOAP_FAULT_ACTION = WSA + "/soap/fault"
# WS-Addressing 1.0 Metadata: the wsam:Action attribute in WSDL.
WSAM = "http://www.w3.org/2007/05/addressing/metadata"

# XOP 1.0 §2.1 and the "xmlmime" attributes used alongside MTOM.
XOP = "http://www.w3.org/2004/08/xop/include"
XMLMIME = "http://www.w3.org/2005/05/xmlmime"

# OASIS WS-Security 1.0: the header block ITI transactions may carry (XUA).
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"

# WSDL 1.1 and its SOAP 1.2 binding extension.
WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
WSDL_SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
XSD = "http://www.w3.org/2001/XMLSchema"

# Namespace of the gateway's own fault detail element (env:Detail content
# that no other specification defines).
GATEWAY = "urn:xds-gateway:soap"
