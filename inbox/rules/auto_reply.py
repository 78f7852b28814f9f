"""Whether a mail may get an automatic answer (an acknowledgement) at all. Pure.

RFC 3834: never answer automatic, bulk or list mail, nor bounces or mail with an empty
return path. And what real mail systems add: a sender who asks for no automatic answers
(``X-Auto-Response-Suppress: All`` or ``AutoReply``, as Exchange and Outlook write it), and
addresses nobody reads (``noreply@``, ``no-reply@``, ``mailer-daemon@``, ``postmaster@``).
"""

from __future__ import annotations

import re

from inbox.mail.parse import ParsedMail

# The local part alone or with a tag: "noreply@", "no-reply+billing@", "noreply.alerts@".
_UNREAD_SENDER = re.compile(
    r"(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer-daemon|postmaster)(?:[-+_.][^@]*)?@.*",
    re.IGNORECASE,
)
_SUPPRESSING = frozenset({"all", "autoreply"})


def may_answer_automatically(parsed: ParsedMail) -> bool:
    if parsed.is_auto_reply or parsed.is_bulk or parsed.is_bounce or parsed.return_path == "":
        return False
    if _SUPPRESSING.intersection(parsed.auto_response_suppress):
        return False
    return not (parsed.from_address and _UNREAD_SENDER.fullmatch(parsed.from_address))
