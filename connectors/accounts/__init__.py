"""The company's account service over HTTP (docs/accounts-api.md).

Like every connector it raises only :class:`~connectors.errors.TransientConnectorError`
(timeouts, refused connections, 408, 429 and 5xx answers) and
:class:`~connectors.errors.PermanentConnectorError` (other 4xx answers, answers that do
not follow the documented shapes).
"""

from connectors.accounts.client import AccountRecord, AccountServiceClient, CodeDispatch

__all__ = ["AccountRecord", "AccountServiceClient", "CodeDispatch"]
