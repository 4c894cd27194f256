"""Scale benchmark app: a plain ``wsgate.App`` whose fan-out shard invocations are timed.

Each shard invocation appends one JSON line to ``$SCALE_SHARD_LOG``: its publish id and number,
how many ids it had, when it started and ended (``time.monotonic``, one clock for every process
on the machine), the CPU time the worker process used for it (the sender's threads included; a
worker runs one invocation at a time) and what it returned.

A direct invocation ``{"benchPublish": {"room", "data", "threshold"}}`` (the Lambda Invoke API,
``RequestResponse``) makes the publish itself inside the function, so that ``wsgate local
--cpu-share`` holds the caller to its CPU share too; it answers how long the call took, the CPU
it used, and the publish's report.

A publish whose message text holds ``crash-me`` plays a failure: on the first attempt of each
even-numbered shard the worker process kills itself ``$SCALE_CRASH_AFTER_S`` seconds in (a crash
midway, nothing recorded), so Lambda's retry (here the local gateway's) runs the shard again.
"""

import json
import os
import threading
import time

from wsgate import App, rooms

app = App()


@app.default
def default(event):
    return None


def handler(event, context):
    if isinstance(event, dict) and "benchPublish" in event:
        return _publish(event["benchPublish"])
    shard = (event.get("wsgate") or {}).get("shard") if isinstance(event, dict) else None
    if shard is None:
        return app(event, context)
    started, cpu = time.monotonic(), time.process_time()
    if "crash-me" in str((shard.get("message") or {}).get("text", "")):
        _crash_first_attempt(shard)
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


def _publish(request):
    started, cpu = time.monotonic(), time.process_time()
    report = rooms.publish(request["room"], request["data"], fanout_threshold=request["threshold"])
    answer = {"call_s": time.monotonic() - started, "cpu_s": time.process_time() - cpu}
    if getattr(report, "id", ""):
        answer["publish_id"] = report.id
        answer["shards"] = report.shards
    else:
        answer["report"] = {
            "delivered": len(report.delivered),
            "gone": len(report.gone),
            "failed": len(report.failed),
        }
    return answer


def _crash_first_attempt(shard):
    if shard.get("n", 1) % 2 or shard.get("hop"):
        return
    marker = f"{os.environ['SCALE_SHARD_LOG']}.{shard.get('publish')}.{shard.get('n')}.crashed"
    try:
        with open(marker, "x"):
            pass
    except FileExistsError:
        return  # the retry: run to the end
    delay = float(os.environ.get("SCALE_CRASH_AFTER_S", "0.3"))
    threading.Timer(delay, lambda: os._exit(1)).start()
