"""Which network address a sign-in attempt counts against."""

from inbox.actions.signin.agents import network_of


def test_an_ipv4_client_counts_as_its_own_address() -> None:
    assert network_of("203.0.113.7") == "203.0.113.7"
    assert network_of(" 203.0.113.7 ") == "203.0.113.7"


def test_every_address_of_one_ipv6_slash_64_counts_as_one_client() -> None:
    first = network_of("2001:db8:1:2:aaaa::1")
    assert first == "2001:db8:1:2::/64"
    assert network_of("2001:DB8:1:2:ffff:ffff:ffff:ffff") == first
    assert network_of("2001:db8:1:3::1") != first


def test_an_ipv4_client_seen_through_an_ipv6_socket_is_the_same_client() -> None:
    assert network_of("::ffff:203.0.113.7") == "203.0.113.7"


def test_something_that_is_no_address_is_kept_as_written_and_bounded() -> None:
    assert network_of("testclient") == "testclient"
    assert len(network_of("x" * 500)) == 64
