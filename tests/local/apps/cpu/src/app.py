import os
import threading
import time


def _spin(until_cpu):
    while time.process_time() < until_cpu:
        sum(range(1000))


def handler(event, context):
    if not isinstance(event, dict) or "burn" not in event:
        return {"statusCode": 200}
    cpu0, wall0 = time.process_time(), time.monotonic()
    until = cpu0 + float(event["burn"])
    threads = [
        threading.Thread(target=_spin, args=(until,)) for _ in range(int(event.get("threads", 1)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"cpu": time.process_time() - cpu0, "wall": time.monotonic() - wall0, "pid": os.getpid()}
