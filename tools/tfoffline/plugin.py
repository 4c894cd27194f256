"""A Terraform provider plugin server (protocol 6) driven by a schema and a small behaviour object.

Terraform starts ``python -m tfoffline.plugin aws|archive|external``; this module performs
go-plugin's handshake (TLS with a cached self-signed certificate, a Unix socket) and answers
the tfplugin6 RPCs. Terraform core does the schema validation itself (unknown or missing
arguments, block counts, value types); the behaviour only fills computed values and reads data
sources.
"""

from __future__ import annotations

import base64
import os
import signal
import sys
import tempfile
import threading
import traceback
from concurrent import futures
from pathlib import Path
from typing import Any, Protocol

import grpc
from tf.gen import grpc_controller_pb2 as ctl_pb
from tf.gen import grpc_controller_pb2_grpc as ctl_rpc
from tf.gen import grpc_stdio_pb2_grpc as stdio_rpc
from tf.gen import tfplugin_pb2 as pb
from tf.gen import tfplugin_pb2_grpc as rpc

from tfoffline import values
from tfoffline.values import UNKNOWN


class ProviderError(Exception):
    """An error the provider reports to Terraform as a diagnostic."""


class Behaviour(Protocol):
    def schema(self) -> dict[str, Any]: ...
    def configure(self, config: dict[str, Any]) -> None: ...
    def validate(self, kind: str, type_name: str, config: dict[str, Any]) -> list[str]: ...
    def plan(
        self, type_name: str, block: dict[str, Any], prior: Any, planned: dict[str, Any]
    ) -> dict[str, Any]: ...
    def apply(
        self, type_name: str, block: dict[str, Any], planned: dict[str, Any], prior: Any
    ) -> dict[str, Any]: ...
    def read_data(
        self, type_name: str, block: dict[str, Any], config: dict[str, Any]
    ) -> dict[str, Any]: ...


NESTING = {
    "single": pb.Schema.NestedBlock.SINGLE,
    "list": pb.Schema.NestedBlock.LIST,
    "set": pb.Schema.NestedBlock.SET,
    "map": pb.Schema.NestedBlock.MAP,
    "group": pb.Schema.NestedBlock.GROUP,
}


def _pb_block(block: dict[str, Any]) -> pb.Schema.Block:
    import json

    attrs = [
        pb.Schema.Attribute(
            name=name,
            type=json.dumps(a["type"]).encode(),
            required=bool(a.get("required")),
            optional=bool(a.get("optional")),
            computed=bool(a.get("computed")),
            sensitive=bool(a.get("sensitive")),
            description=a.get("description", ""),
        )
        for name, a in sorted(block.get("attributes", {}).items())
    ]
    blocks = [
        pb.Schema.NestedBlock(
            type_name=name,
            block=_pb_block(bt["block"]),
            nesting=NESTING[bt["nesting_mode"]],
            min_items=bt.get("min_items", 0),
            max_items=bt.get("max_items", 0),
        )
        for name, bt in sorted(block.get("block_types", {}).items())
    ]
    return pb.Schema.Block(
        attributes=attrs, block_types=blocks, description=block.get("description", "")
    )


def _pb_schema(s: dict[str, Any]) -> pb.Schema:
    return pb.Schema(version=s.get("version", 0), block=_pb_block(s["block"]))


def _diag(summary: str, detail: str = "") -> pb.Diagnostic:
    return pb.Diagnostic(severity=pb.Diagnostic.ERROR, summary=summary, detail=detail)


def _dv(value: Any) -> pb.DynamicValue:
    return pb.DynamicValue(msgpack=values.encode(value))


def _errors(f: Any) -> Any:
    """Turn an exception in an RPC into an error diagnostic Terraform prints."""
    response = getattr(pb, f.__name__).Response

    def wrapper(self: Servicer, request: Any, context: Any) -> Any:
        try:
            return f(self, request, context)
        except ProviderError as exc:
            return response(diagnostics=[_diag(str(exc))])
        except Exception as exc:
            traceback.print_exc()
            return response(diagnostics=[_diag(f"stand-in provider failed: {exc!r}")])

    wrapper.__name__ = f.__name__
    return wrapper


class Servicer(rpc.ProviderServicer):
    def __init__(self, behaviour: Behaviour) -> None:
        self.b = behaviour
        s = behaviour.schema()
        self.provider_schema = s["provider"]
        self.resources: dict[str, Any] = s.get("resource_schemas", {})
        self.data_sources: dict[str, Any] = s.get("data_source_schemas", {})
        self._schema_response: pb.GetProviderSchema.Response | None = None

    def GetMetadata(self, request: Any, context: Any) -> pb.GetMetadata.Response:
        return pb.GetMetadata.Response(
            server_capabilities=pb.ServerCapabilities(
                plan_destroy=True, get_provider_schema_optional=True
            ),
            resources=[pb.GetMetadata.ResourceMetadata(type_name=t) for t in self.resources],
            data_sources=[
                pb.GetMetadata.DataSourceMetadata(type_name=t) for t in self.data_sources
            ],
        )

    def GetProviderSchema(self, request: Any, context: Any) -> pb.GetProviderSchema.Response:
        if self._schema_response is None:
            self._schema_response = self._build_schema_response()
        return self._schema_response

    def _build_schema_response(self) -> pb.GetProviderSchema.Response:
        return pb.GetProviderSchema.Response(
            provider=_pb_schema(self.provider_schema),
            resource_schemas={t: _pb_schema(s) for t, s in self.resources.items()},
            data_source_schemas={t: _pb_schema(s) for t, s in self.data_sources.items()},
            server_capabilities=pb.ServerCapabilities(
                plan_destroy=True, get_provider_schema_optional=True
            ),
        )

    def GetFunctions(self, request: Any, context: Any) -> pb.GetFunctions.Response:
        return pb.GetFunctions.Response()

    @_errors
    def ValidateProviderConfig(
        self, request: Any, context: Any
    ) -> pb.ValidateProviderConfig.Response:
        return pb.ValidateProviderConfig.Response()

    @_errors
    def ValidateResourceConfig(
        self, request: Any, context: Any
    ) -> pb.ValidateResourceConfig.Response:
        config = values.decode(request.config.msgpack, request.config.json)
        errs = self.b.validate("resource", request.type_name, config or {})
        return pb.ValidateResourceConfig.Response(diagnostics=[_diag(e) for e in errs])

    @_errors
    def ValidateDataResourceConfig(
        self, request: Any, context: Any
    ) -> pb.ValidateDataResourceConfig.Response:
        config = values.decode(request.config.msgpack, request.config.json)
        errs = self.b.validate("data", request.type_name, config or {})
        return pb.ValidateDataResourceConfig.Response(diagnostics=[_diag(e) for e in errs])

    @_errors
    def ConfigureProvider(self, request: Any, context: Any) -> pb.ConfigureProvider.Response:
        self.b.configure(values.decode(request.config.msgpack, request.config.json) or {})
        return pb.ConfigureProvider.Response()

    @_errors
    def UpgradeResourceState(self, request: Any, context: Any) -> pb.UpgradeResourceState.Response:
        import json

        block = self.resources[request.type_name]["block"]
        state = json.loads(request.raw_state.json) if request.raw_state.json else None
        return pb.UpgradeResourceState.Response(upgraded_state=_dv(values.conform(block, state)))

    @_errors
    def ReadResource(self, request: Any, context: Any) -> pb.ReadResource.Response:
        return pb.ReadResource.Response(new_state=request.current_state, private=request.private)

    @_errors
    def PlanResourceChange(self, request: Any, context: Any) -> pb.PlanResourceChange.Response:
        block = self.resources[request.type_name]["block"]
        prior = values.decode(request.prior_state.msgpack)
        proposed = values.decode(request.proposed_new_state.msgpack)
        if proposed is None:
            return pb.PlanResourceChange.Response(planned_state=request.proposed_new_state)
        if prior is None:
            proposed = values.walk_attributes(
                block, proposed, lambda _n, a, v: UNKNOWN if v is None and a.get("computed") else v
            )
        planned = self.b.plan(request.type_name, block, prior, proposed)
        return pb.PlanResourceChange.Response(
            planned_state=_dv(planned), planned_private=request.prior_private
        )

    @_errors
    def ApplyResourceChange(self, request: Any, context: Any) -> pb.ApplyResourceChange.Response:
        block = self.resources[request.type_name]["block"]
        planned = values.decode(request.planned_state.msgpack)
        if planned is None:
            delete = getattr(self.b, "delete", None)
            prior = values.decode(request.prior_state.msgpack)
            if delete is not None and isinstance(prior, dict):
                delete(request.type_name, prior)
            return pb.ApplyResourceChange.Response(new_state=request.planned_state)
        prior = values.decode(request.prior_state.msgpack)
        new = self.b.apply(request.type_name, block, planned, prior)
        new = values.walk_attributes(
            block, new, lambda _n, a, v: values.zero(a["type"]) if v is UNKNOWN else v
        )
        return pb.ApplyResourceChange.Response(new_state=_dv(new), private=request.planned_private)

    @_errors
    def ImportResourceState(self, request: Any, context: Any) -> pb.ImportResourceState.Response:
        block = self.resources[request.type_name]["block"]
        state = values.conform(block, {"id": request.id})
        return pb.ImportResourceState.Response(
            imported_resources=[
                pb.ImportResourceState.ImportedResource(
                    type_name=request.type_name, state=_dv(state)
                )
            ]
        )

    @_errors
    def ReadDataSource(self, request: Any, context: Any) -> pb.ReadDataSource.Response:
        block = self.data_sources[request.type_name]["block"]
        config = values.conform(block, values.decode(request.config.msgpack))
        state = self.b.read_data(request.type_name, block, config)
        state = values.walk_attributes(
            block,
            state,
            lambda _n, a, v: (
                values.zero(a["type"])
                if v is UNKNOWN or (v is None and a.get("computed") and not a.get("optional"))
                else v
            ),
        )
        return pb.ReadDataSource.Response(state=_dv(state))

    def StopProvider(self, request: Any, context: Any) -> pb.StopProvider.Response:
        return pb.StopProvider.Response()


def _certificate() -> tuple[bytes, bytes, bytes]:
    """(cert PEM, key PEM, cert DER): cached under the cache dir, made once."""
    cache = Path(
        os.environ.get("TFOFFLINE_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tfoffline"
    )
    cert_file, key_file = cache / "plugin-cert.pem", cache / "plugin-key.pem"
    if not (cert_file.exists() and key_file.exists()):
        from tfoffline.certs import write_certificate

        write_certificate(cache)
    cert_pem, key_pem = cert_file.read_bytes(), key_file.read_bytes()
    body = b"".join(line for line in cert_pem.splitlines() if not line.startswith(b"-----"))
    return cert_pem, key_pem, base64.b64decode(body)


def serve(behaviour: Behaviour, *, reattach: bool = False) -> None:
    """Run the plugin server until Terraform shuts it down, or the parent process goes away.

    With ``reattach`` the server is plain (no TLS) and long-lived: the test harness starts it
    once and hands its socket to every terraform command through ``TF_REATTACH_PROVIDERS``.
    """
    stopped = threading.Event()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    rpc.add_ProviderServicer_to_server(Servicer(behaviour), server)

    class Controller(ctl_rpc.GRPCControllerServicer):
        def Shutdown(self, request: Any, context: Any) -> Any:
            if not reattach:  # a reattached server outlives each terraform command
                stopped.set()
            return ctl_pb.Empty()

    class Stdio(stdio_rpc.GRPCStdioServicer):
        def StreamStdio(self, request: Any, context: Any) -> Any:
            return iter(())

    ctl_rpc.add_GRPCControllerServicer_to_server(Controller(), server)
    stdio_rpc.add_GRPCStdioServicer_to_server(Stdio(), server)
    parent = os.getppid()
    # Terraform and the harness end a server with SIGTERM: stop the loop so that the socket's
    # temporary directory is removed, instead of dying with it left behind.
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with tempfile.TemporaryDirectory(prefix="tfoffline-plugin-") as tmp:
        sock = f"{tmp}/plugin.sock"
        if reattach:
            server.add_insecure_port(f"unix://{sock}")
            server.start()
            sys.stdout.write(f"{sock}\n")
        else:
            cert_pem, key_pem, cert_der = _certificate()
            server.add_secure_port(
                f"unix://{sock}", grpc.ssl_server_credentials([(key_pem, cert_pem)])
            )
            server.start()
            cert64 = base64.b64encode(cert_der).decode().rstrip("=")
            sys.stdout.write(f"1|6|unix|{sock}|grpc|{cert64}\n")
        sys.stdout.flush()
        while not stopped.wait(0.05 if not reattach else 0.5):
            if os.getppid() != parent:
                break
        server.stop(grace=0.2)
    sys.stdout.flush()
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    name = argv[0] if argv else ""
    reattach = "--reattach" in argv
    if name == "aws":
        from tfoffline.aws import AwsBehaviour

        serve(AwsBehaviour(), reattach=reattach)
    elif name == "archive":
        from tfoffline.archive import ArchiveBehaviour

        serve(ArchiveBehaviour(), reattach=reattach)
    elif name == "external":
        from tfoffline.external import ExternalBehaviour

        serve(ExternalBehaviour(), reattach=reattach)
    else:
        sys.exit("usage: python -m tfoffline.plugin aws|archive|external [--reattach]")


if __name__ == "__main__":
    # Run the copy imported under its package name, so that ProviderError raised by the
    # behaviours is the class the RPC wrapper catches.
    from tfoffline import plugin

    plugin.main()
