"""Email transport: IMAP to pull, SMTP to send, and the URLs that configure both."""

from connectors.email.connector import EmailConnector
from connectors.email.imap import FetchedMail, ImapMailbox
from connectors.email.smtp import EmailSender
from connectors.email.urls import MailServerURL, parse_mail_url

__all__ = [
    "EmailConnector",
    "EmailSender",
    "FetchedMail",
    "ImapMailbox",
    "MailServerURL",
    "parse_mail_url",
]
