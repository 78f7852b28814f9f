"""The account area: signing in and out, the second factor, and password reset."""

from inbox.web.account.sign_in import client_address

# The portal counts its sign-in link requests against the same notion of the client.
__all__ = ["client_address"]
