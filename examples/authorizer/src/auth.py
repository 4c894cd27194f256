"""The `$connect` authorizer of the authorizer example: signed tokens, no database.

A token is ``<user>.<signature>``: the signature is HMAC-SHA256 of the user name under the secret
in ``AUTH_SECRET``. Anyone holding the secret can mint tokens, so it stands in for a real identity
provider: in production verify your provider's token (for example a JWT) here instead.

Print a token for a user:  ``AUTH_SECRET=<secret> python auth.py alice``
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import sys

from wsgate import Unauthorized, authorizer

USER_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def sign(user: str, secret: str) -> str:
    """The token for ``user``."""
    digest = hmac.new(secret.encode(), user.encode(), hashlib.sha256).hexdigest()
    return f"{user}.{digest}"


def verify(token: str, secret: str) -> str:
    """The user a token was signed for; ``Unauthorized`` if it was not signed with ``secret``."""
    user, _, _ = token.rpartition(".")
    if not USER_RE.match(user) or not hmac.compare_digest(sign(user, secret), token):
        raise Unauthorized("invalid token")
    return user


@authorizer
def authorize(request):
    """Allow the connection as the token's user; the context reaches every later event."""
    secret = os.environ.get("AUTH_SECRET", "")
    if not secret:
        raise Unauthorized("AUTH_SECRET is not configured")
    if not request.token:
        raise Unauthorized("no token")
    user = verify(request.token, secret)
    return user, {"user": user}


if __name__ == "__main__":
    if len(sys.argv) != 2 or not USER_RE.match(sys.argv[1]):
        sys.exit("usage: AUTH_SECRET=<secret> python auth.py <user>")
    if not os.environ.get("AUTH_SECRET"):
        sys.exit("set AUTH_SECRET to the secret the stack was deployed with")
    print(sign(sys.argv[1], os.environ["AUTH_SECRET"]))
