"""``xds-gateway`` as a user runs it: a real process, real HTTP, the embedded defaults."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from lxml import etree

from .integration.xds import ITI42, SOAP_XML, corpus_request
from .support.soap_client import envelope, post_raw
from .support.vihf import DemoIdentity

SCRIPT = Path(sys.executable).with_name("xds-gateway")


def run(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def clean_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDSGW_")}
    env["XDSGW_DATA_DIR"] = str(tmp_path / "var")
    # What the test clients sign their VIHFs with.
    env["XDSGW_TRUST_DIR"] = str(DemoIdentity.shared().trust_dir)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_db_upgrade_creates_the_sqlite_registry_under_the_data_dir(clean_env, tmp_path):
    result = run("db", "upgrade", env=clean_env)

    assert result.returncode == 0, result.stderr
    assert "at revision 0003" in result.stdout
    assert (tmp_path / "var" / "registry.sqlite3").is_file()
    assert run("db", "current", env=clean_env).stdout.strip() == "0003"


def test_a_bad_setting_stops_the_command_with_a_clear_message(clean_env):
    clean_env["XDSGW_PATIENT_POLICY"] = "sometimes"

    result = run("db", "upgrade", env=clean_env)

    assert result.returncode == 2
    assert "XDSGW_PATIENT_POLICY='sometimes' is not a valid value (one of: auto, registered)" in result.stderr


def test_serve_migrates_an_empty_database_and_registers_over_http(clean_env, tmp_path):
    port = free_port()
    clean_env["XDSGW_PORT"] = str(port)
    process = subprocess.Popen([str(SCRIPT), "serve"], env=clean_env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = requests.get(f"{base}/health", timeout=1)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the gateway did not start: {process.stdout.read() if process.stdout else ''}")
                time.sleep(0.2)
        assert health.json() == {"status": "ok", "database": "0003"}

        soap, _ = envelope(ITI42, corpus_request(), to=f"{base}/xds/registry")
        response = post_raw(f"{base}/xds/registry", SOAP_XML, soap)

        assert response.status == "Success"
        assert (tmp_path / "var" / "registry.sqlite3").is_file()
        assert (tmp_path / "var" / "documents").is_dir()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_an_unreachable_database_is_reported_in_one_line(clean_env):
    clean_env["XDSGW_DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"

    result = run("db", "upgrade", env=clean_env)

    assert result.returncode == 1
    assert result.stderr.startswith("xds-gateway: cannot use the database postgresql+psycopg://nobody@127.0.0.1:1/none:")
    assert "Traceback" not in result.stderr


CORPUS_CDA = Path(__file__).parent / "corpus" / "iti41" / "cr-consultation.cda.xml"


def test_metadata_from_cda_prints_the_entry_ready_to_submit(clean_env):
    from gateway.ebxml import read_registry_object_list

    as_json = run("metadata", "from-cda", "--json", str(CORPUS_CDA), env=clean_env)
    as_xml = run("metadata", "from-cda", "--id", "DocCR", str(CORPUS_CDA), env=clean_env)

    assert (as_json.returncode, as_xml.returncode) == (0, 0), as_json.stderr + as_xml.stderr
    entry = json.loads(as_json.stdout)
    assert (entry["unique_id"], entry["patient_id"], entry["creation_time"]) == (
        "1.2.250.1.999.1.2025.3.12.41", "282079912345639^^^&1.2.250.1.213.1.4.10&ISO^NH", "20250312133000"
    )
    assert entry["class_code"]["code"] == "10" and entry["format_code"]["code"] == "urn:ihe:iti:xds-sd:text:2008"
    read = read_registry_object_list(etree.fromstring(as_xml.stdout.encode()))
    assert read.findings == []
    [doc] = read.submission.documents
    assert (doc.entry_uuid, doc.unique_id, doc.source_patient_id.format()) == (
        "DocCR", "1.2.250.1.999.1.2025.3.12.41", "IPP-004512^^^&1.2.3.4.567.8.9.10&ISO^PI"
    )


def test_metadata_from_cda_refuses_a_document_that_is_not_a_cda(clean_env, tmp_path):
    not_cda = tmp_path / "note.xml"
    not_cda.write_text("<note>hello</note>")

    result = run("metadata", "from-cda", str(not_cda), env=clean_env)

    assert result.returncode == 1
    assert "not a CDA R2 document" in result.stderr and result.stdout == ""


def test_valuesets_list_shows_the_shipped_ci_sis_sets(clean_env):
    result = run("valuesets", "list", env=clean_env)

    assert result.returncode == 0, result.stderr
    assert "JDV_J06_XdsClassCode_CISIS" in result.stdout and "1.2.250.1.213.1.1.5.462" in result.stdout


def serve_log(env: dict[str, str]) -> str:
    """What `serve` logs at start (it is stopped once it listens, or when it exits)."""
    port = free_port()
    env["XDSGW_PORT"] = str(port)
    process = subprocess.Popen([str(SCRIPT), "serve"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
    finally:
        if process.poll() is None:
            process.terminate()
        output, _ = process.communicate(timeout=10)
    return output


def test_serve_says_when_authentication_is_off(clean_env):
    clean_env["XDSGW_AUTH"] = "none"

    assert "WARNING gateway.app: authentication is off (XDSGW_AUTH=none): for local trials only" in serve_log(clean_env)


def test_serve_without_trusted_ca_starts_but_says_every_request_will_be_refused(clean_env, tmp_path):
    del clean_env["XDSGW_TRUST_DIR"]

    output = serve_log(clean_env)

    assert (f"ERROR gateway.app: the VIHF trust store {tmp_path / 'var' / 'trust'} holds no CA certificate (*.pem): "
            "every XDS.b request will be refused") in output
    assert "xds-gateway pki demo var/pki" in output


def test_serve_refuses_a_trust_store_holding_something_else_than_ca_certificates(clean_env, tmp_path):
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "leaf.pem").write_bytes(DemoIdentity.shared().cert_pem)
    clean_env["XDSGW_TRUST_DIR"] = str(trust)

    result = run("serve", env=clean_env)

    assert result.returncode == 2
    assert "xds-gateway: configuration error: XDSGW_TRUST_DIR: " in result.stderr
    assert "is not a CA certificate" in result.stderr
