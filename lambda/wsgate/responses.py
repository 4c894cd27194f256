"""What a handler returns, and how it becomes the Lambda proxy response API Gateway reads.

API Gateway uses a handler's ``statusCode`` only on ``$connect`` (2xx opens the connection,
anything else refuses the handshake with that status) and forwards ``body`` only on two-way
routes; of the headers, only ``Sec-WebSocket-Protocol`` reaches the client, and only on
``$connect``.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import _json

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at run time
if TYPE_CHECKING:
    from typing import Any

    #: What a handler may return.
    HandlerResult = Any


class Response:
    """A handler's answer with a status and headers.

    ``Response(401)`` on ``$connect`` refuses the handshake with 401;
    ``Response(headers={"Sec-WebSocket-Protocol": "chat"})`` accepts a subprotocol; on a two-way
    route ``body`` (dict, list, str or bytes) is sent back to the caller. Immutable. (A plain
    class rather than a dataclass: importing ``dataclasses`` would add to every cold start.)
    """

    __slots__ = ("body", "headers", "status")

    status: int
    body: Any
    headers: Mapping[str, str] | None

    def __init__(
        self, status: int = 200, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> None:
        object.__setattr__(self, "status", status)
        object.__setattr__(self, "body", body)
        object.__setattr__(self, "headers", headers)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Response is immutable; build a new one instead of setting {name}")

    def __repr__(self) -> str:
        return f"Response(status={self.status!r}, body={self.body!r}, headers={self.headers!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Response):
            return NotImplemented
        return (self.status, self.body, self.headers) == (other.status, other.body, other.headers)

    __hash__ = None  # type: ignore[assignment]  # equal by value, holds mutable values

    @property
    def ok(self) -> bool:
        """True for a 2xx status (the handshake succeeds on ``$connect``)."""
        return 200 <= self.status < 300


def encode_body(body: Any) -> tuple[str | None, bool]:
    """Encode a reply body for the proxy response: ``(text, is_base64)``.

    ``dict``/``list`` become JSON, ``str`` stays, UTF-8 ``bytes`` become text and other bytes
    base64 (API Gateway decodes them when ``isBase64Encoded`` is true).
    """
    if body is None:
        return None, False
    if isinstance(body, str):
        return body, False
    if isinstance(body, bytes | bytearray | memoryview):
        raw = bytes(body)
        try:
            return raw.decode("utf-8"), False
        except UnicodeDecodeError:
            import base64  # only for binary replies, so text replies never pay for the import

            return base64.b64encode(raw).decode("ascii"), True
    return _json.dumps(body), False


def to_proxy(result: HandlerResult) -> dict[str, Any]:
    """Turn a handler's return value into the Lambda proxy response dict."""
    if result is None:
        return {"statusCode": 200}
    if isinstance(result, Response):
        status, body, headers = result.status, result.body, result.headers
    else:
        status, body, headers = 200, result, None
    proxy: dict[str, Any] = {"statusCode": int(status)}
    text, is_base64 = encode_body(body)
    if text is not None:
        proxy["body"] = text
        if is_base64:
            proxy["isBase64Encoded"] = True
    if headers:
        proxy["headers"] = {str(k): str(v) for k, v in headers.items()}
    return proxy


def error_frame(code: str, message: str, request_id: str) -> dict[str, str]:
    """The runtime's JSON error frame: ``{"type": "error", "code", "message", "requestId"}``."""
    return {"type": "error", "code": code, "message": message, "requestId": request_id}
