"""Which sender posts a message: the direct one on a tested botocore, the stock client otherwise
or when ``WSGATE_SENDER`` asks for it; both deliver and report errors the same way."""

from __future__ import annotations

import pytest
import wsgate
from mgmt_stub import ManagementStub, clean_env_fixture, mgmt_fixture  # noqa: F401
from wsgate import _clients, senders
from wsgate._direct_sender import DirectSender
from wsgate.errors import ConfigurationError, Gone


@pytest.mark.parametrize(
    ("version", "kind"),
    [
        (senders.OLDEST_TESTED, "direct"),
        (senders.NEWEST_TESTED, "direct"),
        ("1.38.35", "client"),
        ("1.28.0", "client"),
        ("1.45.0", "client"),
        ("2.0.0", "client"),
        ("1.40.0rc1", "direct"),
    ],
)
def test_auto_takes_the_direct_sender_only_inside_the_tested_range(version: str, kind: str) -> None:
    assert senders.choose(version) == kind


def test_the_environment_switch_forces_either_sender(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WSGATE_SENDER", "client")
    assert senders.choose(senders.NEWEST_TESTED) == "client"
    monkeypatch.setenv("WSGATE_SENDER", "Direct")
    assert senders.choose("1.20.0") == "direct"


def test_an_unknown_sender_name_is_refused_with_the_choices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WSGATE_SENDER", "fast")
    with pytest.raises(ConfigurationError, match=r"auto .*direct .*client"):
        senders.choose()


def test_the_installed_botocore_in_range_gets_the_direct_sender(mgmt: ManagementStub) -> None:
    assert senders.in_tested_range(senders.installed_botocore())
    assert isinstance(_clients.sender(mgmt.endpoint), DirectSender)


@pytest.mark.parametrize("how", ["switch", "untested botocore"])
def test_the_stock_client_sender_delivers_and_reports_gone(
    how: str, mgmt: ManagementStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    if how == "switch":
        monkeypatch.setenv("WSGATE_SENDER", "client")
    else:
        monkeypatch.setattr(senders, "installed_botocore", lambda: "1.99.0")
    _clients.reset()
    sender = _clients.sender(mgmt.endpoint)
    assert isinstance(sender, senders.ClientSender)
    mgmt.connect("A=")
    wsgate.send("A=", {"hello": 1}, endpoint=mgmt.endpoint)
    assert mgmt.received["A="] == [b'{"hello":1}']
    mgmt.script("B=", 410, 410)
    with pytest.raises(Gone):
        wsgate.send("B=", "hi", endpoint=mgmt.endpoint)
    report = wsgate.broadcast(["A=", "B="], "both", endpoint=mgmt.endpoint)
    assert report.delivered == ["A="] and report.gone == ["B="]
