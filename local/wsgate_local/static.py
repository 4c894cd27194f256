"""The example's ``static/`` page, served at ``/`` next to the WebSocket (never cached)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web


def routes(root: Path) -> list[web.RouteDef]:
    """GET routes serving the files under ``root`` (``index.html`` for a directory)."""
    base = root.resolve()

    async def serve(request: web.Request) -> web.StreamResponse:
        rel = request.match_info.get("path", "") or "index.html"
        path = (root / rel).resolve()
        if path.is_dir():
            path = path / "index.html"
        if not path.is_relative_to(base) or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Cache-Control": "no-store"})

    return [
        web.get("/", serve, allow_head=False),
        web.get("/{path:.+}", serve, allow_head=False),
    ]
