"""The social connectors call only public addresses: a platform URL (or a redirect) that
leads to loopback, a private network or the cloud metadata service is refused before any
request is made, unless the desk allows private addresses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.errors import PermanentConnectorError
from connectors.social_http import allow_private_addresses, call, check_public_address


@pytest.fixture
def public_only() -> Iterator[None]:
    allow_private_addresses(False)
    yield
    allow_private_addresses(True)  # as tests/conftest.py leaves it


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8081/bot123:abc/getUpdates",
        "http://localhost/v21.0/123/messages",
        "http://10.1.2.3/2/dm_events",
        "http://192.168.0.10/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9000/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
    ],
)
def test_a_url_leading_to_a_private_address_is_refused(public_only: None, url: str) -> None:
    with pytest.raises(PermanentConnectorError, match="not a public address"):
        check_public_address(url)


def test_the_refusal_comes_before_any_request_and_names_no_secret(public_only: None) -> None:
    token = "123456:SECRET-token"
    with pytest.raises(PermanentConnectorError) as refused:
        call(
            "GET",
            f"http://127.0.0.1:9/bot{token}/getMe",
            secrets=(token,),
            what="Telegram getMe",
            timeout=1,
        )
    assert "not a public address" in str(refused.value)
    assert token not in str(refused.value)


def test_a_public_address_passes() -> None:
    allow_private_addresses(False)
    try:
        check_public_address("https://93.184.215.14/")  # an address, so no lookup is needed
    finally:
        allow_private_addresses(True)


def test_private_addresses_pass_where_the_desk_allows_them() -> None:
    allow_private_addresses(True)
    check_public_address("http://127.0.0.1:8081/")
