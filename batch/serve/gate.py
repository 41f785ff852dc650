"""The page's locks at the door: a request's body is refused right after its headers, before waitress reads it.

waitress reads a whole request body (into memory, then a temporary file) before it calls the app, so the app's
403 for a request without the cookie came only after, say, 900 MB had been read. Here waitress's request parser
checks the headers as soon as they are complete, with the app's own rules (`Access.admits`): a request that may
not send a body (no valid cookie, another Host) or that announces more than the upload limit is passed on at once
without its body and with "Connection: close". The app then answers it as it answers any such request, in Dutch
(403, or 413 when the cookie is valid), and the connection closes without reading the rest. What an
unauthenticated client can cost is its headers (at most HEADER_LIMIT bytes) and one connection for at most
waitress's channel_timeout.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from batch.serve.common import UPLOAD_LIMIT

if TYPE_CHECKING:
    from batch.serve.access import Access

HEADER_LIMIT = 64 * 1024  # bytes of request line and headers: a URL, a cookie and a browser's usual headers
# waitress's own limit: only a chunked body (no Content-Length, which no browser's upload uses) meets it, after
# the parser below has let it through; a Content-Length over UPLOAD_LIMIT is refused at the headers.
BODY_LIMIT = UPLOAD_LIMIT + 1  # waitress refuses at >=, the app at >: both let exactly UPLOAD_LIMIT through


def guarded_channel(access: Access) -> type[Any]:
    """waitress's HTTPChannel whose parser refuses the body of a request that `access` does not admit."""
    from waitress.channel import HTTPChannel
    from waitress.parser import HTTPRequestParser
    from waitress.utilities import RequestEntityTooLarge
    from werkzeug.http import parse_cookie

    class Parser(HTTPRequestParser):  # type: ignore[misc]  # waitress has no type hints
        def received(self, data: bytes) -> int:
            had_headers = self.headers_finished
            consumed: int = super().received(data)
            if had_headers or not self.headers_finished or not self._announces_body():
                return consumed
            if self.error is not None and not isinstance(self.error, RequestEntityTooLarge):
                return consumed  # waitress's own 400 for headers it cannot parse
            admitted = access.admits(self.headers.get("HOST", ""), parse_cookie(self.headers.get("COOKIE", "")))
            if admitted and self.content_length <= UPLOAD_LIMIT:
                return consumed
            self._without_body()
            return len(data)  # the rest of this read is body: dropped with it

        def _announces_body(self) -> bool:
            return bool(self.content_length > 0 or self.chunked)

        def _without_body(self) -> None:
            self.error = None  # an over-long body: the app says so in Dutch, by its Content-Length
            self.body_rcv = None
            self.chunked = False
            self.expect_continue = False  # never invite the body with "100 Continue"
            self.headers["CONNECTION"] = "close"  # waitress closes after the answer, reading nothing more
            self.completed = True

    class Channel(HTTPChannel):  # type: ignore[misc]
        parser_class = Parser

    return Channel
