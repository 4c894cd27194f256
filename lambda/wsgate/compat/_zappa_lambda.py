"""Zappa's ``LambdaHandler`` on the compat module, for code and tests written against it."""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import Any, ClassVar


class LambdaHandler:
    """Zappa's ``LambdaHandler``, configured by a settings module instead of the environment.

    ``LambdaHandler("zappa_settings").handler(event, context)`` reads ``API_STAGE``,
    ``APP_MODULE``/``APP_FUNCTION`` and ``WEBSOCKET_HANDLER_MODULE`` from the module, the way
    Zappa's generated ``zappa_settings.py`` configures it; tests written against Zappa's handler
    run unchanged. One instance per process, as in Zappa.
    """

    __instance: ClassVar[LambdaHandler | None] = None
    settings: ClassVar[Any] = None
    settings_name: ClassVar[str | None] = None

    def __new__(cls, settings_name: str = "zappa_settings", session: Any = None) -> LambdaHandler:
        if LambdaHandler.__instance is None:
            LambdaHandler.__instance = object.__new__(cls)
        return LambdaHandler.__instance

    def __init__(self, settings_name: str = "zappa_settings", session: Any = None) -> None:
        if self.settings is not None:
            return
        settings = importlib.import_module(settings_name)
        type(self).settings = settings
        type(self).settings_name = settings_name
        from . import zappa

        stage = getattr(settings, "API_STAGE", None)
        if stage:
            os.environ[zappa.ENV_STAGE] = stage
        for key, value in (getattr(settings, "ENVIRONMENT_VARIABLES", None) or {}).items():
            os.environ[str(key)] = str(value)
        self.app_function: str | None = None
        app_module = getattr(settings, "APP_MODULE", None)
        app_function = getattr(settings, "APP_FUNCTION", None)
        if app_module and app_function:
            self.app_function = f"{app_module}.{app_function}"
            importlib.import_module(app_module)  # Zappa loads the app when the handler starts
        ws_module = getattr(settings, "WEBSOCKET_HANDLER_MODULE", None)
        if ws_module:
            zappa._import_handler_module(ws_module)

    def handler(self, event: Mapping[str, Any], context: Any) -> Any:
        """Dispatch one event: WebSocket to the registry, HTTP to the app."""
        from .. import fanout
        from . import _zappa_http, zappa

        if fanout.is_shard(event):
            return fanout.handle_shard(event, context)
        if zappa.is_websocket_event(event):
            return zappa.dispatch_websocket(event, context)
        return _zappa_http.handle(event, context, self.app_function)

    @classmethod
    def lambda_handler(cls, event: Mapping[str, Any], context: Any) -> Any:
        return cls().handler(event, context)
