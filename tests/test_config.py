"""Configuration: defaults, TOML file, environment, and the errors a user can make."""

from pathlib import Path

import pytest

from gateway.config import Auth, ConfigError, Profile, Settings, load_settings
from gateway.validation import PatientPolicy


def test_the_defaults_need_no_server():
    settings = load_settings({})

    assert settings == Settings()
    assert (settings.host, settings.port, settings.profile, settings.patient_policy) == (
        "127.0.0.1", 8080, Profile.CI_SIS, PatientPolicy.AUTO)
    assert settings.effective_database_url == f"sqlite:///{Path('var/registry.sqlite3').resolve()}"
    assert settings.documents_dir == Path("var/documents")


def test_environment_variables_override_the_toml_file(tmp_path):
    config = tmp_path / "gateway.toml"
    config.write_text('port = 9000\nprofile = "ihe"\ndatabase_url = "postgresql+psycopg://db/xds"\n')

    settings = load_settings({"XDSGW_CONFIG": str(config), "XDSGW_PORT": "9100",
                              "XDSGW_PATIENT_POLICY": "registered"})

    assert settings.port == 9100
    assert settings.profile is Profile.IHE
    assert settings.patient_policy is PatientPolicy.REGISTERED
    assert settings.effective_database_url == "postgresql+psycopg://db/xds"


@pytest.mark.parametrize("environ, message", [
    ({"XDSGW_PORT": "eighty"}, "XDSGW_PORT='eighty' is not a valid value"),
    ({"XDSGW_PORT": "70000"}, "XDSGW_PORT=70000 is not a TCP port"),
    ({"XDSGW_THREADS": "0"}, "XDSGW_THREADS=0 must be at least 1"),
    ({"XDSGW_MAX_REQUEST_BYTES": "10"}, "XDSGW_MAX_REQUEST_BYTES=10 must be at least 4096"),
    ({"XDSGW_LOG_LEVEL": "LOUD"}, "XDSGW_LOG_LEVEL='LOUD' is not a log level"),
    ({"XDSGW_REPOSITORY_UNIQUE_ID": "my-repo"}, "XDSGW_REPOSITORY_UNIQUE_ID='my-repo' is not an OID"),
    ({"XDSGW_DATABASE_URL": "garbage"}, "XDSGW_DATABASE_URL='garbage' is not a database URL"),
    ({"XDSGW_PROFILE": "us"}, "(one of: ihe, ci-sis)"),
    ({"XDSGW_MAX_REQUEST_BYTES": "-1"}, "XDSGW_MAX_REQUEST_BYTES='-1' is not a valid value"),
    ({"XDSGW_CONFIG": "/nonexistent/gateway.toml"}, "cannot read /nonexistent/gateway.toml"),
    ({"XDSGW_MAX_REPOSITORY_REQUEST_BYTES": "100"}, "XDSGW_MAX_REPOSITORY_REQUEST_BYTES=100 must be at least 4096"),
    ({"XDSGW_BLOB_STORE": "tape"}, "(one of: folder, s3)"),
    ({"XDSGW_BLOB_STORE": "s3"}, "XDSGW_S3_BUCKET='' must name a bucket when XDSGW_BLOB_STORE=s3"),
    ({"XDSGW_BLOB_STORE": "s3", "XDSGW_S3_BUCKET": "docs", "XDSGW_S3_PREFIX": "/"},
     "XDSGW_S3_PREFIX='/' must not be empty"),
])
def test_a_bad_value_is_named_in_the_error(environ, message):
    with pytest.raises(ConfigError) as raised:
        load_settings(environ)

    assert message in str(raised.value)


def test_an_unknown_toml_key_is_refused(tmp_path):
    config = tmp_path / "gateway.toml"
    config.write_text('prot = 9000\n')

    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings({"XDSGW_CONFIG": str(config)})


def test_the_repository_settings(tmp_path):
    settings = load_settings({"XDSGW_BLOB_STORE": "s3", "XDSGW_S3_BUCKET": "docs", "XDSGW_BLOB_DIR": str(tmp_path),
                              "XDSGW_MAX_REPOSITORY_REQUEST_BYTES": "1048576"})

    assert (settings.blob_store.value, settings.s3_bucket, settings.s3_prefix) == ("s3", "docs", "xds-gateway")
    assert settings.documents_dir == tmp_path
    # The HTTP server's own cap follows the larger of the two SOAP limits.
    assert settings.server_body_limit == 2 * settings.max_request_bytes + 1024 * 1024


def test_authentication_settings(tmp_path):
    defaults = load_settings({"XDSGW_DATA_DIR": str(tmp_path)})
    assert (defaults.auth, defaults.effective_trust_dir) == (Auth.VIHF, tmp_path / "trust")

    settings = load_settings({"XDSGW_AUTH": "NONE", "XDSGW_TRUST_DIR": str(tmp_path / "pki")})
    assert (settings.auth, settings.effective_trust_dir) == (Auth.NONE, tmp_path / "pki")

    with pytest.raises(ConfigError, match="XDSGW_AUTH='saml' is not a valid value \\(one of: vihf, none\\)"):
        load_settings({"XDSGW_AUTH": "saml"})
    (tmp_path / "file.pem").write_text("")
    with pytest.raises(ConfigError, match="XDSGW_TRUST_DIR=.* is not a folder"):
        load_settings({"XDSGW_TRUST_DIR": str(tmp_path / "file.pem")})
