"""Broadcast benchmark app: ``whoami`` tells a client its connection id; anything else echoes.

The benchmark's clients learn their ids this way, then receive a broadcast and a sequential
``post_to_connection`` loop sent from outside, through the local gateway's @connections API.
"""

from wsgate import App, send

app = App()


@app.default
def default(event):
    if event.body == "whoami":
        send(event.connection_id, {"connectionId": event.connection_id})
    else:
        send(event.connection_id, event.body)
