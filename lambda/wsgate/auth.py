"""``@authorizer``: write a WebSocket REQUEST authorizer as a function that returns a principal.

API Gateway calls the authorizer on every ``$connect`` (WebSocket authorizers are never cached)
with the handshake's headers, query string and context. The decorated function gets an
:class:`AuthRequest` and returns the principal id (``"user-42"``) or ``(principal, context)``;
wsgate builds the IAM policy (Allow on the ``methodArn``). Raising ``Unauthorized`` makes the
Lambda fail with the literal ``Unauthorized`` error, which API Gateway answers with 401; raising
``Forbidden`` returns a Deny policy (403). The context reaches every later event of the connection
as ``event.authorizer``.

Browsers cannot set headers on a WebSocket, so the token may also arrive as a query parameter or
as a ``Sec-WebSocket-Protocol`` entry (``new WebSocket(url, ["bearer", token])``); ``App`` echoes
a non-token subprotocol on ``$connect`` so the browser accepts the handshake.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import Any, overload

from . import _json, logs
from ._credentials import TOKEN_MARKERS as TOKEN_MARKERS  # re-exported: part of the API
from ._credentials import token_from_subprotocols
from .apigw.limits import MAX_AUTHORIZER_RESULT_BYTES
from .errors import ConfigurationError, Forbidden, Unauthorized
from .events import Event

#: API Gateway's limit on an authorizer's result, in bytes.
MAX_RESULT_BYTES = MAX_AUTHORIZER_RESULT_BYTES
SUBPROTOCOL_HEADER = "Sec-WebSocket-Protocol"

ContextValue = str | int | float | bool
AuthFunction = Callable[["AuthRequest"], Any]
LambdaHandler = Callable[[Mapping[str, Any], Any], dict[str, Any]]

_log = logging.getLogger("wsgate.auth")


def parse_subprotocols(headers: Any) -> list[str]:
    """The entries of every ``Sec-WebSocket-Protocol`` header, in order."""
    values = headers.get_all(SUBPROTOCOL_HEADER) if hasattr(headers, "get_all") else []
    out: list[str] = []
    for value in values:
        out.extend(item.strip() for item in value.split(",") if item.strip())
    return out


def choose_subprotocol(protocols: Sequence[str]) -> str | None:
    """The subprotocol to accept: the first entry that is not the token (a browser needs one).

    When the token is the only entry, it is the only value the browser will accept back.
    """
    if not protocols:
        return None
    token = token_from_subprotocols(protocols)
    for item in protocols:
        if item != token:
            return item
    return protocols[0]


class AuthRequest(Event):
    """The authorizer's input: an :class:`Event` plus the token, wherever the client put it."""

    __slots__ = ("_options",)

    def __init__(
        self,
        raw: Mapping[str, Any],
        lambda_context: Any = None,
        *,
        header: str = "Authorization",
        query_params: Sequence[str] = ("token", "access_token"),
        subprotocol: bool = True,
    ) -> None:
        super().__init__(raw, lambda_context)
        self._options = (header, tuple(query_params), subprotocol)

    @cached_property
    def subprotocols(self) -> list[str]:
        """The subprotocols the client offered."""
        return parse_subprotocols(self.headers)

    @cached_property
    def _found(self) -> tuple[str | None, str | None]:
        header, query_params, subprotocol = self._options
        value = self.headers.get(header)
        if value:
            scheme, _, rest = value.partition(" ")
            if rest and scheme.lower() == "bearer":
                value = rest.strip()
            return value, "header"
        for name in query_params:
            value = self.query.get(name)
            if value:
                return value, "query"
        if subprotocol:
            value = token_from_subprotocols(self.subprotocols)
            if value:
                return value, "subprotocol"
        return None, None

    @property
    def token(self) -> str | None:
        """The credential: ``Authorization`` header (``Bearer`` stripped), query, or subprotocol."""
        return self._found[0]

    @property
    def token_source(self) -> str | None:
        """Where the token was found: ``"header"``, ``"query"``, ``"subprotocol"`` or None."""
        return self._found[1]


def _check_context(context: Mapping[str, Any]) -> dict[str, ContextValue]:
    checked: dict[str, ContextValue] = {}
    for key, value in context.items():
        if not isinstance(key, str):
            raise ConfigurationError(f"authorizer context keys must be strings, got {key!r}")
        if not isinstance(value, str | int | float | bool):
            raise ConfigurationError(
                f"authorizer context value {key!r} is a {type(value).__name__}; API Gateway "
                "accepts only strings, numbers and booleans (JSON-encode objects into a string)"
            )
        checked[key] = value
    return checked


def policy(principal: str, effect: str, resource: str) -> dict[str, Any]:
    """An authorizer result with one ``execute-api:Invoke`` statement."""
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
    }


def build_result(outcome: Any, method_arn: str) -> dict[str, Any]:
    """Turn what the user's function returned into the authorizer result API Gateway reads."""
    if isinstance(outcome, Mapping) and "policyDocument" in outcome:
        result = dict(outcome)
    else:
        context: Mapping[str, Any] | None = None
        if isinstance(outcome, tuple):
            if len(outcome) != 2:
                raise ConfigurationError("an authorizer returns principal or (principal, context)")
            outcome, context = outcome
        if outcome is None or outcome == "":
            raise Unauthorized("the authorizer returned no principal")
        if not isinstance(outcome, str | int):
            raise ConfigurationError(
                f"an authorizer returns a principal id (str), got {type(outcome).__name__}"
            )
        result = policy(str(outcome), "Allow", method_arn)
        if context:
            if not isinstance(context, Mapping):
                raise ConfigurationError("the authorizer context must be a dict")
            result["context"] = _check_context(context)
    size = len(_json.dumps(result).encode("utf-8"))
    if size > MAX_RESULT_BYTES:
        raise ConfigurationError(
            f"the authorizer result is {size} bytes, over API Gateway's 8 KB limit; "
            "put less in the context (for example an id, and look the rest up later)"
        )
    return result


@overload
def authorizer(fn: AuthFunction, /) -> LambdaHandler: ...
@overload
def authorizer(
    fn: None = None,
    /,
    *,
    header: str = ...,
    query_params: Sequence[str] = ...,
    subprotocol: bool = ...,
) -> Callable[[AuthFunction], LambdaHandler]: ...


def authorizer(
    fn: AuthFunction | None = None,
    /,
    *,
    header: str = "Authorization",
    query_params: Sequence[str] = ("token", "access_token"),
    subprotocol: bool = True,
) -> LambdaHandler | Callable[[AuthFunction], LambdaHandler]:
    """Make ``fn(request) -> principal | (principal, context)`` a REQUEST authorizer handler.

    ``header``, ``query_params`` and ``subprotocol`` say where ``request.token`` is looked for.
    """

    def wrap(user_fn: AuthFunction) -> LambdaHandler:
        logs.configure()

        @functools.wraps(user_fn)
        def handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
            request = AuthRequest(
                event, context, header=header, query_params=query_params, subprotocol=subprotocol
            )
            method_arn = request.method_arn or "*"
            token = logs.bind(
                connectionId=request.connection_id,
                requestId=request.request_id,
                routeKey="$connect",
            )
            try:
                try:
                    result = build_result(user_fn(request), method_arn)
                except Unauthorized as exc:
                    _log.info("connection refused: unauthorized (%s)", exc)
                    raise Exception("Unauthorized") from None  # API Gateway's 401 convention
                except Forbidden as exc:
                    _log.info("connection refused: forbidden (%s)", exc)
                    return policy(request.principal_id or "anonymous", "Deny", method_arn)
                _log.info(
                    "connection allowed for %s",
                    result.get("principalId"),
                    extra={"tokenSource": request.token_source},
                )
                return result
            finally:
                logs.unbind(token)

        return handler

    if fn is not None:
        return wrap(fn)
    return wrap
