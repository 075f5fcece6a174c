"""Settings from the environment: defaults that work on a laptop, platform conventions."""
import pytest

from comongus.config import SettingError, listen_address, load_config
from comongus.store import with_driver


def test_defaults_need_nothing_installed(tmp_path):
    config = load_config({}, str(tmp_path))
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path}/comongus.sqlite3"
    assert config["REDIS_URL"] is None
    assert config["CORS_ORIGINS"] == "*"
    assert len(config["SECRET_KEY"]) >= 32
    assert load_config({}, str(tmp_path))["SECRET_KEY"] != config["SECRET_KEY"]


@pytest.mark.parametrize("env, address", [
    ({}, ("127.0.0.1", 5000)),
    ({"PORT": "8080"}, ("0.0.0.0", 8080)),
    ({"PORT": "8080", "HOST": "127.0.0.1"}, ("127.0.0.1", 8080)),
    ({"HOST": "::1"}, ("::1", 5000)),
])
def test_listen_address_follows_platform_convention(env, address):
    assert listen_address(env) == address


def test_cors_origins_are_a_comma_separated_list(tmp_path):
    config = load_config({"CORS_ORIGINS": "https://a.example, https://b.example"}, str(tmp_path))
    assert config["CORS_ORIGINS"] == ["https://a.example", "https://b.example"]


def test_bad_number_says_which_setting(tmp_path):
    with pytest.raises(ValueError, match="MAX_TEXT_LENGTH"):
        load_config({"MAX_TEXT_LENGTH": "lots"}, str(tmp_path))


@pytest.mark.parametrize("url, expected", [
    ("postgres://u@h/db", "postgresql+psycopg2://u@h/db"),
    ("postgresql://u@h/db", "postgresql+psycopg2://u@h/db"),
    ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2://u@h/db"),
    ("sqlite:///x.db", "sqlite:///x.db"),
])
def test_postgres_urls_use_psycopg2(url, expected):
    assert with_driver(url) == expected


@pytest.mark.parametrize("key, value, message", [
    ("MAX_CONNECTIONS", "0", "MAX_CONNECTIONS must be at least 1, not 0"),
    ("MAX_CONNECTIONS_PER_ADDRESS", "-1", "MAX_CONNECTIONS_PER_ADDRESS must be at least 0"),
    ("SOCKET_TIMEOUT", "0", "SOCKET_TIMEOUT must be more than 0"),
    ("HEADERS_TIMEOUT", "-2", "HEADERS_TIMEOUT must be more than 0"),
    ("PING_TIMEOUT", "nan", "PING_TIMEOUT must be a finite number"),
    ("HANDSHAKES_PER_SECOND", "-1", "HANDSHAKES_PER_SECOND must be at least 0"),
    ("BODY_MIN_BYTES_PER_SECOND", "-1", "BODY_MIN_BYTES_PER_SECOND must be at least 0"),
    ("TRUSTED_PROXIES", "-1", "TRUSTED_PROXIES must be at least 0"),
    ("MAX_TEXT_LENGTH", "0", "MAX_TEXT_LENGTH must be at least 1"),
    ("HISTORY_MAX_BYTES", "0", "HISTORY_MAX_BYTES must be at least 1"),
    ("MAX_CLIENT_BACKLOG_BYTES", "-5", "MAX_CLIENT_BACKLOG_BYTES must be at least 1"),
    ("SOCKET_READ_BYTES_PER_SECOND", "-1", "SOCKET_READ_BYTES_PER_SECOND must be at least 0"),
    ("SEND_RATE_PER_SECOND", "0", "SEND_RATE_PER_SECOND must be more than 0"),
    ("EVENT_BUDGET_PER_SECOND", "-1", "EVENT_BUDGET_PER_SECOND must be more than 0"),
    ("REST_POSTS_PER_SECOND", "-1", "REST_POSTS_PER_SECOND must be at least 0"),
    ("REDIS_TIMEOUT_SECONDS", "0", "REDIS_TIMEOUT_SECONDS must be more than 0"),
    ("INTRO_TRUST_HTML", "maybe", "INTRO_TRUST_HTML must be 1 or 0"),
    ("PUBLIC_URL", "ftp://chat.example.org", "PUBLIC_URL must look like"),
    ("LEAVE_GRACE_SECONDS", "-1", "LEAVE_GRACE_SECONDS must be at least 0"),
    ("LEAVE_GRACE_SECONDS", "61", "LEAVE_GRACE_SECONDS must be at most 60"),
    ("LEAVE_GRACE_SECONDS", "soon", "LEAVE_GRACE_SECONDS must be a number"),
])
def test_settings_out_of_range_say_which_and_why(tmp_path, key, value, message):
    with pytest.raises(SettingError, match=message):
        load_config({key: value}, str(tmp_path))


def test_zero_turns_off_what_documents_zero_as_off(tmp_path):
    config = load_config({"MAX_CONNECTIONS_PER_ADDRESS": "0", "HANDSHAKES_PER_SECOND": "0",
                          "BODY_MIN_BYTES_PER_SECOND": "0", "TRUSTED_PROXIES": "0",
                          "LEAVE_GRACE_SECONDS": "0"}, str(tmp_path))
    assert config["MAX_CONNECTIONS_PER_ADDRESS"] == config["TRUSTED_PROXIES"] == 0
    assert config["LEAVE_GRACE_SECONDS"] == 0
