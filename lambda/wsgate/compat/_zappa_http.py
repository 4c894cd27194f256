"""The HTTP half of a Zappa app: HTTP events go to its WSGI or ASGI application.

A Zappa app usually serves a Flask or Django app from the same function as its WebSocket
handlers. ``wsgate.compat.zappa.handler`` sends HTTP events (API Gateway HTTP API payload 2.0,
REST API payload 1.0, an Application Load Balancer) to the application named by
``WSGATE_ZAPPA_APP_FUNCTION`` (Zappa's ``app_function``, e.g. ``app.app``; default
``<WSGATE_ZAPPA_MODULE>.app``), through a well-kept adapter that the app lists in its own
``requirements.txt``:

* a WSGI app (Flask, Django's ``application``) through ``apig-wsgi``;
* an ASGI app (FastAPI, Starlette, Django's ASGI ``application``) through ``mangum``.

The adapter is imported on the first HTTP event only, so a WebSocket-only app needs neither, and
the wsgate runtime itself stays standard library plus boto3.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable, Mapping
from typing import Any

from .. import ConfigurationError

ENV_APP_FUNCTION = "WSGATE_ZAPPA_APP_FUNCTION"
ENV_APP_TYPE = "WSGATE_ZAPPA_APP_TYPE"

#: Adapter per application (by ``module.attribute``), built on the first HTTP event.
_adapters: dict[str, Callable[[Mapping[str, Any], Any], Any]] = {}

_ADAPTER_OF = {"wsgi": ("apig_wsgi", "apig-wsgi"), "asgi": ("mangum", "mangum")}


def http_payload(event: Any) -> str | None:
    """``"2.0"``, ``"1.0"`` or ``"alb"`` for an HTTP event, else None."""
    if not isinstance(event, Mapping):
        return None
    context = event.get("requestContext")
    if isinstance(context, Mapping) and "elb" in context:
        return "alb"
    if event.get("version") == "2.0" and isinstance(context, Mapping) and "http" in context:
        return "2.0"
    if "httpMethod" in event:
        return "1.0"
    return None


def handle(event: Mapping[str, Any], context: Any, app_function: str | None) -> Any:
    """Answer one HTTP event with the app's response (an API Gateway/ALB proxy dict)."""
    if http_payload(event) is None:
        raise ConfigurationError(
            "wsgate.compat.zappa.handler got an event that is neither an API Gateway WebSocket "
            "event nor an HTTP event (HTTP API, REST API or ALB); events of other sources "
            "(schedules, S3, SNS, SQS) need a function of their own with its own handler"
        )
    name = app_function or _default_app_function()
    adapter = _adapters.get(name)
    if adapter is None:
        adapter = _adapters[name] = _build_adapter(name)
    return adapter(dict(event), context)


def _default_app_function() -> str:
    module = os.environ.get("WSGATE_ZAPPA_MODULE", "app").strip() or "app"
    return os.environ.get(ENV_APP_FUNCTION, "").strip() or f"{module}.app"


def _load(name: str) -> Any:
    module_name, _, attribute = name.rpartition(".")
    if not module_name or not attribute:
        raise ConfigurationError(
            f"{ENV_APP_FUNCTION}={name!r} must look like 'module.attribute' (Zappa's "
            "app_function), e.g. 'app.app' for a Flask app named app in app.py"
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name and not module_name.startswith(f"{exc.name}."):
            raise
        raise ConfigurationError(
            f"an HTTP request arrived but the app module {module_name!r} does not exist; set "
            f"{ENV_APP_FUNCTION} to your WSGI/ASGI application (Zappa's app_function)"
        ) from exc
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ConfigurationError(
            f"an HTTP request arrived but {module_name!r} has no {attribute!r}; set "
            f"{ENV_APP_FUNCTION} to your WSGI/ASGI application (Zappa's app_function)"
        ) from None


def app_type(app: Any) -> str:
    """``"asgi"`` for an ASGI application (an async callable), else ``"wsgi"``.

    ``WSGATE_ZAPPA_APP_TYPE`` (``wsgi`` or ``asgi``) overrides the guess, for apps that hide
    their ``async`` behind a wrapper.
    """
    forced = os.environ.get(ENV_APP_TYPE, "").strip().lower()
    if forced:
        if forced not in _ADAPTER_OF:
            raise ConfigurationError(f"{ENV_APP_TYPE} must be 'wsgi' or 'asgi', not {forced!r}")
        return forced
    method = None
    if not inspect.isfunction(app):
        method = inspect.getattr_static(type(app), "__call__", None)
    if inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(method):
        return "asgi"
    return "wsgi"


def _build_adapter(name: str) -> Callable[[Mapping[str, Any], Any], Any]:
    app = _load(name)
    kind = app_type(app)
    module_name, package = _ADAPTER_OF[kind]
    try:
        adapter_module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise ConfigurationError(
            f"an HTTP request arrived for the {kind.upper()} app {name!r} but {package!r} is not "
            f"installed: add {package} to the requirements.txt next to your code"
        ) from exc
    if kind == "wsgi":
        wsgi_handler: Callable[[Mapping[str, Any], Any], Any] = adapter_module.make_lambda_handler(
            app
        )
        return wsgi_handler
    asgi_handler: Callable[[Mapping[str, Any], Any], Any] = adapter_module.Mangum(app)
    return asgi_handler


def reset() -> None:
    """Forget the adapters (tests load several apps in one process)."""
    _adapters.clear()
