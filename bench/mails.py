"""Realistic, varied customer mail for the benchmarks: deterministic for a given seed.

Every mail comes from its own sender (so each opens a ticket and earns an acknowledgement)
and is about 5 KB on the wire, in the mix a support mailbox sees: plain text, HTML with a
text alternative, and mail with a small attachment (a screenshot or a PDF).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

FIRST = [
    "Maria", "José", "Aiko", "Liam", "Fatima", "Noah", "Chloé", "Mateo", "Priya", "Lukas",
    "Amara", "Jonas", "Sofia", "Kwame", "Elif", "Oliver", "Ingrid", "Rahul", "Zoë", "Tomasz",
]  # fmt: skip
LAST = [
    "Lopez", "Okafor", "Tanaka", "Schmidt", "Haddad", "Nguyen", "Dubois", "Rossi", "Kowalski",
    "Andersen", "Mensah", "Yilmaz", "Patel", "García", "Müller", "O'Brien", "Silva", "Novak",
]  # fmt: skip
DOMAINS = ["example.org", "mail.example.net", "posteo.example", "corp.example.com"]
TOPICS = [
    "I cannot sign in to my account",
    "Card payment declined twice",
    "Refund for order {n} has not arrived",
    "Question about the fees on my statement",
    "How do I change the phone number on file?",
    "Transfer {n} is still pending",
    "Two-factor codes are not arriving",
    "Please close my account",
    "Wrong amount charged for invoice {n}",
    "App crashes when I open the cards screen",
]
SENTENCES = [
    "I have tried to sign in several times this morning and every attempt ends on the same page.",
    "The payment was made on Tuesday and the money has left my bank account already.",
    "Your help page says this should take two working days, but it has been over a week now.",
    "I reset my password as suggested, cleared the cache and tried another browser as well.",
    "Could you please check what is happening and let me know what I need to do next?",
    "My employer pays my salary into this account, so I really need this fixed before Friday.",
    "I attached a screenshot of the error message so you can see exactly what I see.",
    "The reference shown in the app is different from the one in the confirmation email.",
    "When I call the number on the card I am told to write to this address instead.",
    "I am travelling at the moment and can only be reached by email, not by phone.",
    "Thank you in advance for your help; I have been a customer for many years.",
    "Last month the same thing happened and it resolved itself after a few days.",
    "There is no option in the settings to change this, at least none that I can find.",
    "If you need any more information from me, such as a copy of my ID, just say so.",
]
SIGNATURES = [
    "Best regards,\n{name}",
    "Thanks,\n{first}\n\nSent from my phone",
    "Kind regards\n{name}\n{street} {number}\n{city}",
    "Cheers, {first}",
]
CITIES = ["Lisbon", "Lagos", "Osaka", "Berlin", "Beirut", "Hanoi", "Lyon", "Turin", "Kraków"]


def customer_mails(count: int, *, to: str, seed: int = 2024) -> list[bytes]:
    """``count`` distinct mails, roughly half plain, a third HTML, the rest with attachments."""
    rng = random.Random(seed)
    start = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
    return [
        _mail(rng, number, to, start + timedelta(seconds=37 * number)) for number in range(count)
    ]


def _mail(rng: random.Random, number: int, to: str, date: datetime) -> bytes:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    name = f"{first} {last}"
    kind = rng.random()
    local = f"{first}.{last}".lower().replace("'", "").encode("ascii", "ignore").decode()
    address = f"{local}{number}@{rng.choice(DOMAINS)}"
    paragraphs = [
        " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(3, 6)))
        for _ in range(rng.randint(6, 9) if kind < 0.5 else rng.randint(4, 6))
    ]
    signature = rng.choice(SIGNATURES).format(
        name=name, first=first, street="Rua Augusta", number=number % 200, city=rng.choice(CITIES)
    )
    text = "Hello,\n\n" + "\n\n".join(paragraphs) + "\n\n" + signature + "\n"

    msg = EmailMessage()
    for hop in range(rng.randint(2, 3)):
        msg["Received"] = (
            f"from mx{hop}.{rng.choice(DOMAINS)} (mx{hop}.example [192.0.2.{hop + 10}]) "
            f"by mail.example.test with ESMTPS id {rng.getrandbits(48):012x}; "
            + format_datetime(date)
        )
    msg["Authentication-Results"] = "mail.example.test; dkim=pass; spf=pass; dmarc=pass"
    msg["From"] = f"{name} <{address}>"
    msg["To"] = to
    msg["Subject"] = rng.choice(TOPICS).format(n=100_000 + number)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = f"<{rng.getrandbits(64):016x}.{number}@{address.split('@')[1]}>"
    msg["User-Agent"] = rng.choice(["Thunderbird/115.8", "Apple Mail (2.3774)", "Outlook 16.0"])
    msg.set_content(text)
    if kind >= 0.5:
        html = "".join(f"<p>{p}</p>" for p in paragraphs)
        msg.add_alternative(
            f'<html><body><div style="font-family:Arial"><p>Hello,</p>{html}'
            f"<p>{signature.replace(chr(10), '<br>')}</p></div></body></html>",
            subtype="html",
        )
    if kind >= 0.8:
        screenshot = kind < 0.9
        msg.add_attachment(
            rng.randbytes(1200),
            maintype="image" if screenshot else "application",
            subtype="png" if screenshot else "pdf",
            filename="screenshot.png" if screenshot else f"statement-{number}.pdf",
        )
    return msg.as_bytes()
