"""The chat protocol's pure rules: frames, visitor tokens, signed identities, pace, origins."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from inbox.rules.chat import (
    End,
    FrameError,
    Hello,
    Identity,
    Ping,
    Resume,
    Say,
    TokenBucket,
    Typing,
    identity_hash,
    identity_proven,
    origin_listed,
    read_frame,
    visitor_from_token,
    visitor_token,
)

SECRET = b"instance secret"


def test_each_frame_of_the_protocol_is_read_into_its_kind() -> None:
    assert read_frame('{"type": "hello", "token": null, "name": " Ana ", "email": "A@x.org"}') == (
        Hello(token=None, name="Ana", email="a@x.org")
    )
    assert read_frame('{"type": "message", "client_id": "c1", "text": " hi "}') == Say("c1", "hi")
    assert read_frame('{"type": "typing", "active": false}') == Typing(False)
    assert read_frame('{"type": "resume", "since": 4}') == Resume(4)
    assert read_frame('{"type": "end"}') == End()
    assert read_frame('{"type": "ping"}') == Ping()
    signed = read_frame('{"type": "hello", "token": "t", "identity": {"id": "u1", "hash": "AB"}}')
    assert isinstance(signed, Hello) and signed.identity == Identity("u1", "ab")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("{nope", "bad_json"),
        ("[]", "bad_json"),
        (b"\xff\xfe", "bad_json"),
        ('{"type": "shout"}', "unknown_type"),
        ('{"no": "type"}', "unknown_type"),
        ('{"type": "message", "client_id": "", "text": "x"}', "invalid"),
        ('{"type": "message", "client_id": "c", "text": "   "}', "invalid"),
        ('{"type": "message", "client_id": "c", "text": 5}', "invalid"),
        ('{"type": "typing", "active": "yes"}', "invalid"),
        ('{"type": "resume", "since": -1}', "invalid"),
        ('{"type": "resume", "since": true}', "invalid"),
        ('{"type": "hello", "token": 7}', "invalid"),
        ('{"type": "hello", "token": null, "email": "not an address"}', "invalid"),
        ('{"type": "hello", "token": null, "identity": {"id": "", "hash": "x"}}', "invalid"),
    ],
)
def test_a_frame_that_is_not_in_the_protocol_is_refused_with_its_code(
    data: str | bytes, code: str
) -> None:
    with pytest.raises(FrameError) as refused:
        read_frame(data)
    assert refused.value.code == code


def test_a_visitor_token_is_signed_and_a_forged_one_names_nobody() -> None:
    token = visitor_token(SECRET, 17)
    assert visitor_from_token(SECRET, token) == 17
    assert visitor_from_token(b"another desk", token) is None
    assert visitor_from_token(SECRET, token.replace("v17", "v18")) is None
    assert visitor_from_token(SECRET, "garbage") is None


def test_an_identity_is_proven_by_the_sites_hmac_of_its_id_with_the_identity_secret() -> None:
    expected = hmac.new(b"s3cret", b"user-42", hashlib.sha256).hexdigest()
    assert identity_hash("s3cret", "user-42") == expected
    assert identity_proven("s3cret", Identity("user-42", expected))
    assert not identity_proven("s3cret", Identity("user-43", expected))
    assert not identity_proven("other", Identity("user-42", expected))


def test_bursts_of_ten_pass_then_the_pace_is_kept() -> None:
    bucket = TokenBucket(burst=10, rate=0.5)
    assert all(bucket.take(100.0) for _ in range(10))
    assert not bucket.take(100.0)
    assert bucket.take(102.0)  # one more every two seconds
    assert not bucket.take(102.5)


def test_only_the_listed_origins_pass_default_ports_written_or_not() -> None:
    origins = ["https://shop.example", "http://127.0.0.1:8080"]
    assert origin_listed("https://shop.example:443", origins)
    assert origin_listed("HTTPS://Shop.Example", origins)
    assert origin_listed("http://127.0.0.1:8080", origins)
    assert not origin_listed("http://shop.example", origins)
    assert not origin_listed("http://127.0.0.1:8081", origins)
    assert not origin_listed("null", origins)
    assert not origin_listed(None, origins)
