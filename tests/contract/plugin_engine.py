"""A small stand-in for the Pulumi engine, to drive `plugin/` over gRPC as the CLI would.

It serves the engine's Log and the resource monitor (the plan's RecordingMonitor over the plan's mocks, so what the
plugin registers is recorded exactly as `make plan` records a program's resources), launches the plugin as the
Python language host launches it (`python <plugin dir> <engine address>`), reads the port it prints and calls the
provider: GetPluginInfo, GetSchema, Construct.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    errors_pb2,
    provider_pb2,
    provider_pb2_grpc,
    resource_pb2_grpc,
    status_pb2,
)

from cli.offline import PlanMocks, RecordingMonitor
from tests.helpers import ROOT

PLUGIN = ROOT / "plugin"
START_SECONDS = 60


class _Monitor(resource_pb2_grpc.ResourceMonitorServicer):
    """The gRPC face of the plan's RecordingMonitor."""

    def __init__(self, recording: RecordingMonitor):
        self.recording = recording
        self.lock = threading.Lock()

    def SupportsFeature(self, request, context):
        return self.recording.SupportsFeature(request)

    def GetDeploymentInfo(self, request, context):
        return self.recording.GetDeploymentInfo(request)

    def RegisterResource(self, request, context):
        with self.lock:
            return self.recording.RegisterResource(request)

    def RegisterResourceOutputs(self, request, context):
        return empty_pb2.Empty()

    def Invoke(self, request, context):
        with self.lock:
            return self.recording.Invoke(request)


@dataclass
class _Engine(engine_pb2_grpc.EngineServicer):
    logs: list[tuple[str, str, str]] = field(default_factory=list)
    """(severity, urn, message) of every message but debug."""

    def Log(self, request, context):
        if request.severity != engine_pb2.DEBUG:
            self.logs.append((engine_pb2.LogSeverity.Name(request.severity), request.urn, request.message))
        return empty_pb2.Empty()


@dataclass
class PluginSession:
    provider: provider_pb2_grpc.ResourceProviderStub
    monitor_address: str
    recording: RecordingMonitor
    engine: _Engine
    project: str
    stack: str

    def schema(self) -> str:
        return self.provider.GetSchema(provider_pb2.GetSchemaRequest(version=0)).schema

    def construct(self, name: str, inputs: dict, config: dict | None = None) -> provider_pb2.ConstructResponse:
        """Construct `app-storage:index:AppStorage` named `name` at the root of the stack, with wire-form inputs."""
        struct = struct_pb2.Struct()
        struct.update(inputs)
        return self.provider.Construct(provider_pb2.ConstructRequest(
            project=self.project, stack=self.stack, organization="organization", config=config or {},
            dryRun=True, parallel=4, monitorEndpoint=self.monitor_address, type="app-storage:index:AppStorage",
            name=name, parent=f"urn:pulumi:{self.stack}::{self.project}::pulumi:pulumi:Stack::{self.project}-"
                              f"{self.stack}", inputs=struct, accepts_output_values=True), timeout=120)


def input_errors(error: grpc.RpcError) -> list[tuple[str, str]]:
    """The per-input errors the engine shows against a Construct's inputs: (property path, reason)."""
    for key, value in error.trailing_metadata() or ():  # type: ignore[attr-defined]
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            problems = []
            for detail in status.details:
                errors = errors_pb2.InputPropertiesError()
                if detail.Unpack(errors):
                    problems += [(entry.property_path, entry.reason) for entry in errors.errors]
            return problems
    return []


@contextmanager
def plugin_session(project: str, stack: str, region: str = "us-east-1") -> Iterator[PluginSession]:
    recording = RecordingMonitor(PlanMocks(region), project_and_stack=(project, stack))
    engine = _Engine()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    resource_pb2_grpc.add_ResourceMonitorServicer_to_server(_Monitor(recording), server)
    engine_pb2_grpc.add_EngineServicer_to_server(engine, server)
    address = f"127.0.0.1:{server.add_insecure_port('127.0.0.1:0')}"
    server.start()
    plugin = subprocess.Popen([sys.executable, str(PLUGIN), address], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=PLUGIN)
    try:
        timer = threading.Timer(START_SECONDS, plugin.kill)
        timer.start()
        port_line = plugin.stdout.readline() if plugin.stdout else ""
        timer.cancel()
        if not port_line.strip().isdigit():
            raise RuntimeError(f"the plugin printed no port: {port_line!r} "
                               f"{plugin.stderr.read() if plugin.stderr else ''}")
        channel = grpc.insecure_channel(f"127.0.0.1:{port_line.strip()}")
        yield PluginSession(provider_pb2_grpc.ResourceProviderStub(channel), address, recording, engine, project,
                            stack)
        channel.close()
    finally:
        plugin.kill()
        plugin.wait(timeout=10)
        server.stop(None)
        recording.close_thread_loops()
