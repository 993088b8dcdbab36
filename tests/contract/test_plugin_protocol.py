"""`plugin/` as the Pulumi CLI runs it: launched as the Python language host launches a plugin, driven over gRPC by
a stand-in engine (`plugin_engine.py`) whose resource monitor records registrations exactly as `make plan` does.

What another language's program gets: the schema `pulumi package add` generates its SDK from, the same resources
as the stack program declares for the app, and, for bad inputs, the engine's per-input errors
(`pulumirpc.InputPropertiesError` in the status details, as pulumi 3.272's provider server sends them).
"""

from __future__ import annotations

import json

import grpc
import pytest
from google.protobuf import empty_pb2, json_format

from components import VERSION
from components.app_storage_args import AppStorageArgs
from components.settings.component_inputs import wire_inputs
from tests.contract.plugin_engine import input_errors, plugin_session
from tests.helpers import component_args, stack_plan_in_component_order
from tests.unit.test_component_package import GOLDEN, _app_subtree, declared

PROJECT = "app-storage"


@pytest.fixture(scope="module")
def dev_session():
    with plugin_session(PROJECT, "dev") as session:
        yield session


def test_the_plugin_reports_its_version_and_the_schema_of_its_golden(dev_session):
    assert dev_session.provider.GetPluginInfo(empty_pb2.Empty()).version == VERSION
    assert json.loads(dev_session.schema()) == json.loads(GOLDEN.read_text())


@pytest.mark.parametrize("stack, app", [("dev", "eventhorizon"), ("prod", "chat")])
def test_a_construct_declares_what_the_stack_program_declares_for_the_app(stack, app):
    """Inputs sent as the engine sends them (a protobuf Struct: every number a float), resources recorded as the
    plan records them; the response carries the component's URN and its outputs, the .env values secret."""
    stack_plan = stack_plan_in_component_order(stack)
    inputs = wire_inputs(AppStorageArgs, component_args(stack, app, stack_plan))
    with plugin_session(PROJECT, stack) as session:
        response = session.construct(app, inputs)
        recorded = list(session.recording.recorded)
        logs = list(session.engine.logs)
    assert declared(recorded) == declared(_app_subtree(stack_plan, app))
    assert response.urn == f"urn:pulumi:{stack}::{PROJECT}::app-storage:index:AppStorage::{app}"
    state = json_format.MessageToDict(response.state)
    assert state["bucketName"] == f"{PROJECT}-{stack}-{app}"
    assert state["env"]["4dabf18193072939515e22adb298388d"] == "1b47061264138c4ac30d75fd1eb44270"  # a secret
    assert "app-storage:apps" not in json.dumps(logs)
    assert all(urn == response.urn for severity, urn, _ in logs if severity == "WARNING"), logs


def test_a_warning_reaches_the_engine_against_the_component(dev_session):
    """The gate's warnings go to the engine's log for the resource, naming inputs: on MinIO, storageBytes is also
    a hard quota."""
    inputs = {"backend": "minio", "minio": {"minioServer": "localhost:9000"}, "protectData": False,
              "alerts": {"storageBytes": 5e9}}
    response = dev_session.construct("quota", inputs)
    warnings = [message for severity, urn, message in dev_session.engine.logs
                if severity == "WARNING" and urn == response.urn]
    assert any(message.startswith("storageBytes is the bucket's hard quota") for message in warnings), warnings
    assert not any("app-storage:" in message for message in warnings), warnings


def test_bad_inputs_come_back_as_per_input_errors(dev_session):
    """(That nothing is declared first is held in-process, where the registrations can be awaited:
    `test_bad_inputs_are_reported_each_by_its_input_path_and_nothing_is_declared`.)"""
    inputs = {"backend": "minio", "minio": {"minioServer": "localhost:9000"},
              "cors": [{"origins": ["ftp://x"], "methods": ["GET"]}], "areas": {"a": {"presignSeconds": 0}}}
    with pytest.raises(grpc.RpcError) as raised:
        dev_session.construct("broken", inputs)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    paths = [path for path, _ in input_errors(raised.value)]
    assert {"cors[0].origins[0]", "areas.a.presignSeconds"} <= set(paths), paths
    assert "Traceback" not in raised.value.details()  # type: ignore[attr-defined]


def test_an_input_the_schema_does_not_name_is_refused_not_dropped(dev_session):
    """The SDK's provider drops unknown inputs before the component runs; a typo must not fall to a default."""
    with pytest.raises(grpc.RpcError) as raised:
        dev_session.construct("typo", {"backend": "minio", "bucketPrefx": "x", "cors": [{"origins": ["https://a.b"],
                                                                                          "methods": ["GET"],
                                                                                          "maxAge": 5}]})
    assert sorted(path for path, _ in input_errors(raised.value)) == ["bucketPrefx", "cors[0].maxAge"]


def test_a_missing_required_nested_input_names_its_path(dev_session):
    """The SDK checks the schema's required inputs itself, before the component runs."""
    with pytest.raises(grpc.RpcError) as raised:
        dev_session.construct("no-methods", {"backend": "minio", "cors": [{"origins": ["https://a.example"]}]})
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert [path for path, _ in input_errors(raised.value)] == ["cors[0].methods"]
