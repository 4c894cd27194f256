"""Key pair and tokens for trying the authorizer example locally (never for production keys).

    python tokens.py keys .keys            # writes .keys/private.pem and .keys/public.pem
    python tokens.py issue alice --key .keys/private.pem [--ttl 3600]

Needs PyJWT and cryptography (``pip install -r src/requirements.txt``). The issuer and audience
default to what src/auth.py and main.tf expect.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ISSUER = "https://auth.example.com/"
AUDIENCE = "wsgate-authorizer-example"


def make_keys(directory: Path) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    directory.mkdir(parents=True, exist_ok=True)
    private, public = directory / "private.pem", directory / "public.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    private.chmod(0o600)
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def issue(
    user: str,
    private_pem: bytes,
    *,
    ttl: int = 3600,
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
    now: float | None = None,
) -> str:
    import jwt

    t = int(time.time() if now is None else now)
    claims = {"sub": user, "iss": issuer, "aud": audience, "iat": t, "exp": t + ttl}
    return jwt.encode(claims, private_pem, algorithm="RS256")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("keys", help="write a new RSA key pair")
    k.add_argument("directory", type=Path)
    i = sub.add_parser("issue", help="print a token for a user")
    i.add_argument("user")
    i.add_argument("--key", type=Path, required=True, help="private key PEM")
    i.add_argument("--ttl", type=int, default=3600, help="seconds until it expires")
    i.add_argument("--issuer", default=ISSUER)
    i.add_argument("--audience", default=AUDIENCE)
    a = p.parse_args(argv)
    if a.cmd == "keys":
        private, public = make_keys(a.directory)
        print(f"wrote {private} (keep it) and {public} (give it to the authorizer)")
        return 0
    print(issue(a.user, a.key.read_bytes(), ttl=a.ttl, issuer=a.issuer, audience=a.audience))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
