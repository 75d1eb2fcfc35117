"""The XDS.b SOAP ports: each binds a SOAP action to the ebXML codec and a service.

Nothing here decides anything: a handler reads the request body with
``gateway.ebxml``, calls the service, and writes the service's answer back.
"""
