"""Editing the handler's source reloads the workers: the next events run the new code."""

from __future__ import annotations

import os
import shutil
import time

from local_support import RECORDER, Recorder
from wsgate_local.testing import start_gateway


def test_source_changes_reload_the_workers_even_when_they_break_the_import(tmp_path):
    app_dir = tmp_path / "app"
    shutil.copytree(RECORDER, app_dir)
    # the copy is no longer beside the repository: point its module block at it by name
    main_tf = app_dir / "main.tf"
    main_tf.write_text(main_tf.read_text().replace('"../../../.."', '"github.com/acme/wsgate"'))
    record = Recorder(tmp_path / "events.jsonl")
    gw = start_gateway(app_dir, environment={"RECORD_FILE": str(record.path)}, reload_interval=0.2)
    try:
        with gw.connect() as client:
            client.send_json({"action": "echo"})
            assert client.recv_json()["version"] == 1
            source = app_dir / "src" / "app.py"
            source.write_text(source.read_text().replace('"version": 1', '"version": 2'))
            later = time.time() + 5
            os.utime(source, (later, later))
            deadline = time.monotonic() + 30
            version = 1
            while version != 2 and time.monotonic() < deadline:
                time.sleep(0.2)
                client.send_json({"action": "echo"})
                # a fresh worker's cold start may outlast the integration timeout, as on AWS
                version = client.recv_json().get("version", version)
            assert version == 2
            # a broken edit: events fail with API Gateway's frame, the gateway keeps running
            source.write_text("this is not python\n")
            later += 5
            os.utime(source, (later, later))
            frame = ""
            while "Internal server error" not in frame and time.monotonic() < deadline:
                time.sleep(0.2)
                client.send_json({"action": "echo"})
                frame = str(client.recv())
            assert frame.startswith('{"message": "Internal server error"')
    finally:
        gw.stop()
