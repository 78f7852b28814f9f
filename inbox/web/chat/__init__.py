"""Live chat's public side: the widget a site embeds, its demo page, the visitor's websocket
(``socket``), served to its sockets by this process's ``hub``, and the visitor's files over
HTTP (``files``)."""
