"""Pure rules: which ticket a mail joins, signed tokens, and header-safe outbound mail."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default

from inbox.mail.compose import OutboundMail, build_message, tagged_subject, without_links
from inbox.rules.thread_match import ThreadSignals, decide
from inbox.signing import (
    SecretBox,
    new_message_id,
    reply_address,
    token_from_address,
    verify_message_id,
    verify_reply_token,
)

SECRET = b"s" * 32
OTHER = b"o" * 32


def signals(**kw: tuple[int, ...] | tuple[str, ...]) -> ThreadSignals:
    base: dict[str, tuple[int, ...] | tuple[str, ...]] = {
        "token_ticket_ids": (),
        "signed_ticket_ids": (),
        "referenced_ids": (),
        "subject_refs": (),
    }
    base.update(kw)
    return ThreadSignals(**base)  # type: ignore[arg-type]


def test_reply_token_wins_and_is_recorded() -> None:
    decision = decide(
        signals(token_ticket_ids=(7,), signed_ticket_ids=(7,)),
        existing={7},
        stored_ticket_ids=(),
        subject_tickets={},
    )
    assert (decision.ticket_id, decision.reason) == (7, "reply_token")


def test_conflicting_strong_signals_never_join_silently() -> None:
    decision = decide(
        signals(token_ticket_ids=(7,), signed_ticket_ids=(9,)),
        existing={7, 9},
        stored_ticket_ids=(),
        subject_tickets={},
    )
    assert decision.ticket_id is None and decision.reason == "possible_followup"
    assert decision.linked_ticket_id == 7


def test_subject_tag_counts_only_for_participants() -> None:
    joined = decide(signals(), existing=set(), stored_ticket_ids=(), subject_tickets={3: True})
    assert (joined.ticket_id, joined.reason) == (3, "subject_tag")
    stranger = decide(signals(), existing=set(), stored_ticket_ids=(), subject_tickets={3: False})
    assert stranger.ticket_id is None and stranger.linked_ticket_id == 3


def test_signals_for_deleted_tickets_are_ignored() -> None:
    decision = decide(
        signals(token_ticket_ids=(5,)), existing=set(), stored_ticket_ids=(), subject_tickets={}
    )
    assert (decision.ticket_id, decision.reason) == (None, "new_ticket")


def test_reply_tokens_are_signed() -> None:
    address = reply_address(SECRET, "support@example.com", 42)
    assert token_from_address(SECRET, address) == 42
    assert token_from_address(OTHER, address) is None
    forged = address.replace("+t42.", "+t43.")
    assert token_from_address(SECRET, forged) is None
    assert verify_reply_token(SECRET, "t42") is None


def test_message_ids_are_signed_and_recognised() -> None:
    message_id = new_message_id(SECRET, "example.com", 42)
    assert verify_message_id(SECRET, message_id) == 42
    assert verify_message_id(SECRET, f"<{message_id}>") == 42
    assert verify_message_id(OTHER, message_id) is None
    assert verify_message_id(SECRET, "42.abc.def@example.com") is None
    assert new_message_id(SECRET, "example.com", 42) != message_id


def test_secret_box_round_trip_and_wrong_key() -> None:
    # The password holds characters the sealed form (URL-safe base64) never has, so finding
    # it there can only mean it was stored readable; a two-letter password turns up by chance.
    secrets = {"imap_url": "imap://u:mailbox!pass@h"}
    sealed = SecretBox(SECRET).seal(secrets)
    assert "mailbox!pass" not in sealed and "imap://" not in sealed
    assert SecretBox(SECRET).open(sealed) == secrets
    try:
        SecretBox(OTHER).open(sealed)
    except ValueError:
        pass
    else:
        raise AssertionError("a wrong key opened the box")


def test_names_and_subjects_cannot_inject_headers_or_recipients() -> None:
    raw = build_message(
        OutboundMail(
            from_name="Support",
            from_address="support@example.com",
            to_name="Eve\r\nBcc: victim@example.org",
            to_address="eve@example.org",
            reply_to="support+t1.x@example.com",
            subject="Hello\r\nBcc: other@example.org\r\nX-Evil: 1",
            body_text="body",
            message_id="1.a.b@example.com",
            date=datetime.now(UTC),
            auto_submitted="auto-replied",
        )
    )
    parsed = message_from_bytes(raw, policy=default)
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert [str(a.addr_spec) for a in parsed["To"].addresses] == ["eve@example.org"]
    assert parsed["Auto-Submitted"] == "auto-replied"


def test_tagged_subject_keeps_one_tag_and_one_re() -> None:
    ref = "HD-1234-5678X"
    assert tagged_subject(ref, "Locked out") == f"[{ref}] Locked out"
    assert (
        tagged_subject(ref, f"Re: AW: [{ref}] Locked out", reply=True) == f"Re: [{ref}] Locked out"
    )


def test_links_are_removed_from_echoed_text() -> None:
    assert "evil" not in without_links("Go to https://evil.example/x or www.evil.example now")
    assert "evil" not in without_links("verify at evil.com/login")


def test_composed_mail_reads_back_as_written_in_any_script() -> None:
    raw = build_message(
        OutboundMail(
            from_name="Служба поддержки",
            from_address="support@example.com",
            to_name='Jürgen "JJ" Müller, Jr.',
            to_address="j@example.org",
            reply_to="support+t1.x@example.com",
            subject="[HD-1234-5678X] Zahlung über 30 € " + "sehr lang " * 12,
            body_text="Grüße,\n" + "ein sehr langer Satz " * 10 + "\nEnde\n",
            message_id="1.a.b@example.com",
            date=datetime.now(UTC),
            in_reply_to="x@customer.example",
            references=("x@customer.example",),
        )
    )
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))
    parsed = message_from_bytes(raw, policy=default)
    assert parsed["From"].addresses[0].display_name == "Служба поддержки"
    assert parsed["To"].addresses[0].display_name == 'Jürgen "JJ" Müller, Jr.'
    assert parsed["To"].addresses[0].addr_spec == "j@example.org"
    assert str(parsed["Subject"]).startswith("[HD-1234-5678X] Zahlung über 30 € sehr lang")
    assert parsed["References"] == "<x@customer.example>"
    assert parsed.get_content().replace("\r\n", "\n").startswith("Grüße,\nein sehr langer Satz")


def test_an_address_that_could_carry_a_second_recipient_is_refused() -> None:
    for address in ("a@example.org, b@example.org", "a@example.org>\r\nBcc: b@x", "no-at-sign"):
        try:
            build_message(
                OutboundMail(
                    from_name="Support",
                    from_address="support@example.com",
                    to_name="x",
                    to_address=address,
                    reply_to="support+t1.x@example.com",
                    subject="s",
                    body_text="b",
                    message_id="1.a.b@example.com",
                    date=datetime.now(UTC),
                )
            )
        except ValueError:
            continue
        raise AssertionError(f"{address!r} was written")
