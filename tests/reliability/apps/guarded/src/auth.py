"""The guarded app's authorizer: the token decides the outcome (see main.tf)."""

from __future__ import annotations

from wsgate import Forbidden, Unauthorized, authorizer


@authorizer
def authorize(request):
    token = request.token or ""
    if token == "deny":
        raise Forbidden("denied")
    if token == "crash":
        raise RuntimeError("the authorizer has a bug")
    if token.startswith("user:"):
        user = token.split(":", 2)[1]
        return user, {"user": user, "tier": "gold"}
    raise Unauthorized("unknown token")
