"""Which address a request counts as, for throttling (app/security.py:client_address)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import Settings
from app.security import client_address

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))


def test_without_trusted_proxies_the_header_is_never_read() -> None:
    assert client_address("203.0.113.5", ["198.51.100.1"], ()) == "203.0.113.5"
    assert client_address("10.0.0.1", ["198.51.100.1"], ()) == "10.0.0.1"


def test_from_a_trusted_proxy_the_first_untrusted_hop_from_the_right_counts() -> None:
    assert client_address("10.0.0.1", ["198.51.100.1"], PROXIES) == "198.51.100.1"
    # A client's own entries stay left of what the proxy appended.
    assert client_address("10.0.0.1", ["1.1.1.1, 2.2.2.2, 198.51.100.1"], PROXIES) == (
        "198.51.100.1"
    )
    # Two proxies of ours in a row, and the header sent as two lines.
    assert client_address("10.0.0.1", ["9.9.9.9, 198.51.100.1", "10.0.0.2"], PROXIES) == (
        "198.51.100.1"
    )
    # An untrusted peer's header is ignored, even when it names a trusted proxy.
    assert client_address("203.0.113.5", ["10.0.0.3"], PROXIES) == "203.0.113.5"


def test_ports_brackets_and_garbage() -> None:
    assert client_address("10.0.0.1", ["198.51.100.1:4711"], PROXIES) == "198.51.100.1"
    assert client_address("10.0.0.1", ["[2001:db8::1]:443"], PROXIES) == "2001:db8::/64"
    # Unreadable where a proxy of ours should have written: the proxy itself counts.
    assert client_address("10.0.0.1", ["unknown"], PROXIES) == "10.0.0.1"
    assert client_address("10.0.0.1", [], PROXIES) == "10.0.0.1"
    assert client_address("testclient", ["198.51.100.1"], PROXIES) == "testclient"


def test_ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() -> None:
    first = client_address("2001:db8:1:2::1", [], ())
    second = client_address("2001:db8:1:2:ffff::9", [], ())
    assert first == second == "2001:db8:1:2::/64"
    assert client_address("2001:db8:1:3::1", [], ()) != first
    assert client_address("::ffff:203.0.113.5", [], ()) == "203.0.113.5"
    assert client_address("fd00::1", ["2001:db8::5"], PROXIES) == "2001:db8::/64"


def test_trusted_proxies_setting_is_a_list_of_networks_and_a_typo_stops_the_start(
    tmp_path: Path,
) -> None:
    common = {"VAR_DIR": tmp_path, "SECRET_KEY": "x" * 20}
    parsed = Settings(TRUSTED_PROXIES=" 10.0.0.1, 192.168.0.0/16 ,::1", **common)
    assert [str(network) for network in parsed.trusted_proxies] == [
        "10.0.0.1/32",
        "192.168.0.0/16",
        "::1/128",
    ]
    assert Settings(**common).trusted_proxies == ()
    with pytest.raises(ValidationError, match="TRUSTED_PROXIES"):
        Settings(TRUSTED_PROXIES="10.0.0.x", **common)
