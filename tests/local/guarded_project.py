"""A small project with a REQUEST authorizer whose secret is a root-module variable with no
default (``var.auth_secret``), as a user's own stack would have it."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from local_support import ROOT

AUTH = """
import hashlib
import hmac
import os

from wsgate import Unauthorized, authorizer


@authorizer
def authorize(request):
    token = request.token or ""
    user = token.rpartition(".")[0]
    expected = hmac.new(os.environ["AUTH_SECRET"].encode(), user.encode(), hashlib.sha256)
    if not user or not hmac.compare_digest(f"{user}.{expected.hexdigest()}", token):
        raise Unauthorized("invalid token")
    return user, {"user": user}
"""

APP = """
import wsgate

app = wsgate.App()


@app.route("whoami")
def whoami(event):
    return {"user": event.authorizer.get("user")}
"""


def guarded_project(tmp_path: Path) -> Path:
    project = tmp_path / "guarded"
    (project / "src").mkdir(parents=True)
    (project / "src" / "auth.py").write_text(AUTH)
    (project / "src" / "app.py").write_text(APP)
    (project / "main.tf").write_text(
        'variable "auth_secret" {\n  type      = string\n  sensitive = true\n}\n\n'
        f'module "ws" {{\n  source = "{ROOT}"\n  name = "guarded"\n'
        '  source_dir = "${path.module}/src"\n  routes = ["whoami"]\n'
        '  two_way_routes = ["whoami"]\n  authorizer_handler = "auth.authorize"\n'
        '  authorizer_identity_sources = ["route.request.querystring.token"]\n'
        "  environment = { AUTH_SECRET = var.auth_secret }\n}\n"
    )
    return project


def token(user: str, secret: str) -> str:
    return f"{user}.{hmac.new(secret.encode(), user.encode(), hashlib.sha256).hexdigest()}"
