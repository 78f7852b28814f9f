"""The customer portal's writes: signing in with a mailed link (``signin``), and what a
signed-in customer writes (``messages``)."""
