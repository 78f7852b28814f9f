"""Live chat's file rules: the signed upload token and attachment link, and the ``message``
frame's ``attachments``."""

from __future__ import annotations

import pytest

from inbox.rules.chat import FrameError, Say, read_frame
from inbox.rules.chat_files import (
    LINK_SECONDS,
    ChatFile,
    file_url,
    link_token,
    linked_attachment,
    upload_token,
    uploaded_file,
)
from inbox.signing import open_claims, sign_claims

SECRET = b"s" * 32
FILE = ChatFile("ab" * 32, "receipt.png", "image/png", 2048)
NOW = 1_800_000_100  # not on the hour


def test_an_upload_token_names_its_file_for_its_visitor_until_it_expires() -> None:
    token = upload_token(SECRET, 7, FILE, NOW + 60)
    assert uploaded_file(SECRET, token, 7, NOW) == FILE
    assert uploaded_file(SECRET, token, 8, NOW) is None  # another visitor's
    assert uploaded_file(SECRET, token, 7, NOW + 61) is None  # expired
    assert uploaded_file(b"t" * 32, token, 7, NOW) is None  # another desk's


def test_a_changed_character_anywhere_in_a_token_makes_it_worthless() -> None:
    token = upload_token(SECRET, 7, FILE, NOW + 60)
    for at in range(len(token)):
        swapped = "B" if token[at] != "B" else "C"
        assert uploaded_file(SECRET, token[:at] + swapped + token[at + 1 :], 7, NOW) is None


def test_tokens_of_one_purpose_do_not_serve_another() -> None:
    upload = upload_token(SECRET, 7, FILE, NOW + 60)
    link = link_token(SECRET, 3, 7, NOW + 60)
    assert linked_attachment(SECRET, upload, NOW) is None
    assert uploaded_file(SECRET, link, 7, NOW) is None
    assert open_claims(SECRET, "survey", sign_claims(SECRET, "chat-file", {"a": 1})) is None


def test_a_link_names_its_attachment_and_visitor_for_a_week() -> None:
    url = file_url("https://desk.example/", SECRET, 3, 7, NOW)
    assert url.startswith("https://desk.example/chat/files/")
    token = url.rsplit("/", 1)[1]
    assert linked_attachment(SECRET, token, NOW + LINK_SECONDS) == (3, 7)
    assert linked_attachment(SECRET, token, NOW + LINK_SECONDS + 3600) is None
    assert file_url("https://desk.example", SECRET, 3, 7, NOW + 1) == url  # stable a while


@pytest.mark.parametrize("token", ["", "no-dot", ".", "abc.def", "é.é", "x" * 5000])
def test_anything_else_is_no_token_at_all(token: str) -> None:
    assert open_claims(SECRET, "chat-file", token) is None
    assert linked_attachment(SECRET, token, NOW) is None


def test_a_message_may_carry_files_with_or_without_text() -> None:
    frame = read_frame('{"type": "message", "client_id": "c", "text": "", "attachments": ["t1"]}')
    assert frame == Say("c", "", ("t1",))
    frame = read_frame('{"type": "message", "client_id": "c", "attachments": ["t1", "t1"]}')
    assert frame == Say("c", "", ("t1",))
    assert read_frame('{"type": "message", "client_id": "c", "text": "hi"}') == Say("c", "hi")


@pytest.mark.parametrize(
    "attachments",
    ['"t1"', "[1]", '[""]', '["a", "b", "c", "d"]', f'["{"x" * 1025}"]'],
)
def test_attachments_that_are_not_a_short_list_of_tokens_are_invalid(attachments: str) -> None:
    with pytest.raises(FrameError) as refused:
        read_frame(
            f'{{"type": "message", "client_id": "c", "text": "hi", "attachments": {attachments}}}'
        )
    assert refused.value.code == "invalid"


def test_a_message_with_neither_text_nor_files_is_invalid() -> None:
    with pytest.raises(FrameError):
        read_frame('{"type": "message", "client_id": "c", "text": " ", "attachments": []}')
