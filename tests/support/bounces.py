"""Mail that comes back: a delivery-status report as an MTA writes it."""

from __future__ import annotations


def delivery_report(
    *,
    recipient: str,
    original_message_id: str,
    reply_to: str = "support@example.com",
    message_id: str = "<bounce-1@mx.example.net>",
) -> bytes:
    """A delivery-status report as an MTA writes it (RFC 3464), returning the headers."""
    boundary = "dsn-boundary"
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        "To: support@example.com\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\n"
        f"Message-ID: {message_id}\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/plain\r\n\r\n"
        "Your message could not be delivered.\r\n"
        f"--{boundary}\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        "Action: failed\r\n"
        "Status: 5.1.1\r\n\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <{original_message_id}>\r\n"
        f"To: {recipient}\r\n"
        f"Reply-To: {reply_to}\r\n"
        "Subject: Re: your request\r\n"
        f"--{boundary}--\r\n"
    ).encode()
