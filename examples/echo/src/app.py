"""The smallest wsgate app: every message comes straight back to the client that sent it.

Locally: ``wsgate local examples/echo``, then ``wscat -c ws://127.0.0.1:3001/dev``.
"""

from __future__ import annotations

import wsgate

app = wsgate.App()


@app.default
def echo(event: wsgate.Event) -> None:
    # Through the @connections API (wsgate.send), as a one-way route must answer.
    wsgate.send(event.connection_id, event.body or "")
