"""The `$connect` authorizer of the authorizer example: RS256 JSON Web Tokens, verified with PyJWT.

A client connects with ``?token=<JWT>``. The token must be signed with RS256 by the holder of
the private key, name this API's audience and the expected issuer, carry a user name as
``sub``, and not be expired. Only the public key is needed to verify, so the authorizer holds no
secret; it is read from SSM Parameter Store (the parameter ``JWT_PUBLIC_KEY_PARAMETER`` names)
once per cold start, so rotating it needs no redeploy, only new containers. For local runs,
``JWT_PUBLIC_KEY`` may hold the PEM itself.

``python tokens.py`` (next to ``src/``) makes a key pair and issues tokens for local use.
"""

from __future__ import annotations

import os
import re
from typing import Any

import jwt
from wsgate import Unauthorized, authorizer

#: fullmatch, not match with "$": "$" also matches before a trailing newline.
USER_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
#: RS256 only: accepting "none" or an HMAC algorithm would let anyone holding the public key
#: (which is public) forge tokens.
ALGORITHMS = ["RS256"]
#: Clock skew tolerated on exp/nbf/iat, in seconds.
LEEWAY = 30

_public_key: Any = None


def public_key() -> Any:
    """The verification key: read once per container (a cold start), then reused."""
    global _public_key
    if _public_key is None:
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        pem = os.environ.get("JWT_PUBLIC_KEY")
        if not pem:
            name = os.environ.get("JWT_PUBLIC_KEY_PARAMETER")
            if not name:
                raise RuntimeError("set JWT_PUBLIC_KEY_PARAMETER (or JWT_PUBLIC_KEY locally)")
            import boto3

            ssm = boto3.client("ssm")
            pem = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
        _public_key = load_pem_public_key(pem.encode())
    return _public_key


def verify(token: str) -> str:
    """The user a valid token was issued to; ``Unauthorized`` for anything else."""
    try:
        claims = jwt.decode(
            token,
            public_key(),
            algorithms=ALGORITHMS,
            audience=os.environ.get("JWT_AUDIENCE", "wsgate-authorizer-example"),
            issuer=os.environ.get("JWT_ISSUER", "https://auth.example.com/"),
            leeway=LEEWAY,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
    except jwt.PyJWTError as exc:  # bad signature, expired, malformed (any bytes), wrong aud
        raise Unauthorized(f"invalid token: {type(exc).__name__}") from None
    user = claims.get("sub")
    if not isinstance(user, str) or not USER_RE.fullmatch(user):
        raise Unauthorized("invalid token: sub is not a user name")
    return user


@authorizer
def authorize(request):
    """Allow the connection as the token's user; the context reaches every later event."""
    if not request.token:
        raise Unauthorized("no token")
    user = verify(request.token)
    return user, {"user": user}
