"""The names `wsgate` promises are all there, and each resolves to a real object."""

from __future__ import annotations

import wsgate


def test_every_public_name_resolves() -> None:
    assert set(wsgate.__all__) == set(wsgate._EXPORTS)
    for name in wsgate.__all__:
        assert getattr(wsgate, name) is not None, name


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        wsgate.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
