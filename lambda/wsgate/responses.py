"""What a handler returns, and how it becomes the Lambda proxy response API Gateway reads.

API Gateway uses a handler's ``statusCode`` only on ``$connect`` (2xx opens the connection,
anything else refuses the handshake with that status) and forwards ``body`` only on two-way
routes; of the headers, only ``Sec-WebSocket-Protocol`` reaches the client, and only on
``$connect``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import _json

#: What a handler may return: None, a dict/list/str/bytes reply body, or a ``Response``.
HandlerResult = Any


@dataclass(frozen=True, init=False)
class Response:
    """A handler's answer with a status and headers.

    ``Response(401)`` on ``$connect`` refuses the handshake with 401;
    ``Response(headers={"Sec-WebSocket-Protocol": "chat"})`` accepts a subprotocol; on a two-way
    route ``body`` (dict, list, str or bytes) is sent back to the caller. Immutable.
    """

    status_code: int = 200
    body: Any = None
    headers: Mapping[str, str] | None = None

    def __init__(
        self,
        status_code: int = 200,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        *,
        status: int | None = None,
    ) -> None:
        if status is not None:
            warnings.warn(
                "Response(status=...) is deprecated and will be removed in 1.0; "
                "use Response(status_code=...)",
                DeprecationWarning,
                stacklevel=2,
            )
            status_code = status
        object.__setattr__(self, "status_code", status_code)
        object.__setattr__(self, "body", body)
        object.__setattr__(self, "headers", headers)

    @property
    def status(self) -> int:
        """Deprecated spelling of :attr:`status_code`."""
        warnings.warn(
            "Response.status is deprecated and will be removed in 1.0; use Response.status_code",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.status_code

    @property
    def ok(self) -> bool:
        """True for a 2xx status (the handshake succeeds on ``$connect``)."""
        return 200 <= self.status_code < 300


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
        status, body, headers = result.status_code, result.body, result.headers
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


def error_frame(code: str, message: str, request_id: str | None) -> dict[str, str | None]:
    """The runtime's JSON error frame: ``{"type": "error", "code", "message", "requestId"}``."""
    return {"type": "error", "code": code, "message": message, "requestId": request_id}
