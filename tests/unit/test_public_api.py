"""The names `wsgate` promises are all there; the names it had before 0.2 still work, and warn."""

from __future__ import annotations

import pytest
import wsgate
from wsgate import App, Response, WebSocketHandler, handles
from wsgate.errors import MessageError


def test_every_public_name_resolves() -> None:
    for name in wsgate.__all__:
        assert getattr(wsgate, name) is not None, name


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        wsgate.no_such_name  # noqa: B018


@pytest.mark.parametrize(
    ("old", "new"),
    [("ClientError", MessageError), ("Server", WebSocketHandler), ("route", handles)],
)
def test_names_from_before_0_2_still_resolve_with_a_deprecation_warning(
    old: str, new: object
) -> None:
    with pytest.deprecated_call(match=f"wsgate.{old} is deprecated"):
        assert getattr(wsgate, old) is new
    assert old not in wsgate.__all__


def test_errors_module_keeps_client_error_as_a_deprecated_alias() -> None:
    import wsgate.errors

    with pytest.deprecated_call(match="use MessageError"):
        assert wsgate.errors.ClientError is MessageError


def test_response_status_keyword_and_attribute_are_deprecated_spellings() -> None:
    with pytest.deprecated_call(match="status_code"):
        old = Response(status=403)
    assert old == Response(403) == Response(status_code=403)
    with pytest.deprecated_call(match="status_code"):
        assert old.status == 403


def test_errorhandler_is_a_deprecated_name_of_on_error() -> None:
    app = App()
    with pytest.deprecated_call(match="use App.on_error"):

        @app.errorhandler(KeyError)
        def handle(event: object, exc: Exception) -> None:
            return None

    with pytest.raises(wsgate.RegistrationError, match="already has an error handler"):
        app.on_error(KeyError)(lambda event, exc: None)


def test_version_is_the_distributions_version() -> None:
    from importlib.metadata import version

    assert wsgate.__version__ == version("wsgate")
