"""A handler written the AWS way, without the runtime and without WSGATE_ENDPOINT, builds the
@connections endpoint from the event's domainName and stage: the README's example works locally."""

from __future__ import annotations

import re

from local_support import ROOT


def _readme_block(path: str) -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(rf"<!-- file: {re.escape(path)} -->\n```python\n(.*?)\n```", readme, re.S)
    assert found, f"README.md has no block for {path}"
    return found.group(1) + "\n"


def test_raw_handler_reaches_the_management_api_through_domain_name(tmp_path, wsgate_gateway):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "raw_echo.py").write_text(_readme_block("src/raw_echo.py"))
    (tmp_path / "main.tf").write_text(
        f'module "ws" {{\n  source = "{ROOT}"\n  name = "raw"\n'
        '  source_dir = "${path.module}/src"\n  handler = "raw_echo.handler"\n}\n'
    )
    # Not the runtime's WSGATE_ENDPOINT nor boto3's endpoint variable: only the event's fields.
    gw = wsgate_gateway(tmp_path, quiet=True, stage_name="v1", environment={"WSGATE_ENDPOINT": ""})
    with gw.connect() as client:
        client.send("echo me")
        assert client.recv() == "echo me"
