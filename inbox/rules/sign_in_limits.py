"""How many sign-in attempts one network address gets: the rules, apart from the counting
(``inbox.actions.signin.agents``) and the administrators' view of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class AddressLimit:
    """At most ``limit`` attempts of one kind from one network address within ``window``.

    Keyed by the address alone, never by the account asked for, so the answer says nothing
    about which addresses exist; kept in the database, so it holds across web processes.
    A browser holding a valid device cookie of the agent it signs in as is not held back.
    """

    kind: str
    limit: int
    window: timedelta
    label: str


# Wrong passwords and wrong second-factor codes, for any address known or not, together: an
# attacker spraying many accounts from one place stops long before any lockout would.
FAILED_SIGN_INS = AddressLimit(
    "sign_in_failed", limit=20, window=timedelta(minutes=15), label="failed sign-ins"
)
RESET_REQUESTS = AddressLimit(
    "password_reset", limit=10, window=timedelta(hours=1), label="password reset requests"
)
# Customers asking the portal for a sign-in link (``inbox.actions.portal.signin``).
PORTAL_LINK_REQUESTS = AddressLimit(
    "portal_link", limit=20, window=timedelta(hours=1), label="portal sign-in link requests"
)
ADDRESS_LIMITS = {
    rule.kind: rule for rule in (FAILED_SIGN_INS, RESET_REQUESTS, PORTAL_LINK_REQUESTS)
}
