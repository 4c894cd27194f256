"""Scale benchmark app: a plain ``wsgate.App`` whose fan-out shard invocations are timed.

Each shard invocation appends one JSON line to ``$SCALE_SHARD_LOG``: its publish id and number,
how many ids it had, when it started and ended (``time.monotonic``, one clock for every process
on the machine), the CPU time the worker process used for it (the sender's threads included; a
worker runs one invocation at a time) and what it returned.
"""

import json
import os
import time

from wsgate import App

app = App()


@app.default
def default(event):
    return None


def handler(event, context):
    shard = (event.get("wsgate") or {}).get("shard") if isinstance(event, dict) else None
    if shard is None:
        return app(event, context)
    started, cpu = time.monotonic(), time.process_time()
    result = app(event, context)
    line = {
        "publish": shard.get("publish"),
        "n": shard.get("n"),
        "ids": len(shard.get("ids") or ()),
        "started": started,
        "ended": time.monotonic(),
        "cpu_s": time.process_time() - cpu,
        "result": result,
    }
    with open(os.environ["SCALE_SHARD_LOG"], "a") as out:
        out.write(json.dumps(line) + "\n")
    return result
