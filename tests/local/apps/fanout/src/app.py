"""Every connection joins "big"; {"action": "shout", "text": ...} publishes the text to it."""

import wsgate

app = wsgate.App()


@app.connect
def join(event):
    app.rooms.join(event.connection_id, "big")


@app.route("shout")
def shout(event):
    report = app.rooms.publish("big", {"text": event.json["text"]})
    return {"publish": getattr(report, "id", None), "shards": getattr(report, "shards", 0)}
