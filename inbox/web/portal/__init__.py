"""The customer portal at ``/portal``: a customer signs in with a single-use link mailed to
their address (``sign_in``), then sees and answers their own tickets (``tickets``).

Its session is its own cookie (``session``), read by nothing outside this package but the
portal's live socket (``inbox.web.live.portal``, with the websockets), which takes the
cookie's name from here: the agents' middleware never looks at it, and these pages never
look at an agent's session. Every portal route is public to the agents' middleware
(``inbox.web.auth.PUBLIC_ROUTES``) and checks the customer's session itself.
"""

from inbox.web.portal.session import portal_cookie_name

__all__ = ["portal_cookie_name"]
