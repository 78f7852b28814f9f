"""The public help centre, ``/help``: categories, articles, search, feedback, the sitemap;
and the suggestions endpoint other pages call while a visitor types (``/help/suggest``).

Offered to the other areas: the locale of a request and the desk's article links."""

from inbox.web.help.locale import article_url as article_url
