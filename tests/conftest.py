"""Shared fixtures: stacks and programs evaluated under Pulumi's mock runtime (no CLI, no cloud)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from components.offline import (Plan, evaluate, evaluate_stack, run_main, stack_config_values,  # noqa: E402
                                to_config_text)
from components.settings import StackSettings, parse_settings  # noqa: E402


def stack_values(stack: str) -> dict:
    """The shipped stack's config values (project-level values merged under the stack file's)."""
    return stack_config_values(stack, ROOT)[0]


def as_config(values: dict) -> dict:
    """Stack-file style values -> the text config a program receives."""
    return {key: to_config_text(value) for key, value in values.items()}


def settings_for(values: dict, stack: str = "test") -> StackSettings:
    return parse_settings(as_config(values), "app-storage", stack)


def plan_program(program: Callable[[], None], values: dict | None = None, stack: str = "test") -> Plan:
    return evaluate(stack, as_config(values or {"aws:region": "us-east-1"}), program)


@pytest.fixture(scope="session")
def prod_plan() -> Plan:
    return evaluate_stack("prod")


@pytest.fixture(scope="session")
def dev_plan() -> Plan:
    return evaluate_stack("dev")


@pytest.fixture(scope="session")
def connection_shapes() -> dict[str, dict]:
    """The neutral connection in each shape a shipped stack gives an app, secrets shown (mock values):
    AWS with a CDN domain, AWS without one (public areas served by S3), AWS for an app with only private
    areas, and MinIO. Taken from the stacks' own offline plans, not written by hand."""
    without_cdn = {**stack_values("prod"), "app-storage:cdn": {"enabled": False},
                   "app-storage:publicWithoutCdn": True}
    prod = evaluate_stack("prod", show_secrets=True).outputs
    prod_without_cdn = evaluate("prod", as_config(without_cdn), run_main, show_secrets=True).outputs
    dev = evaluate_stack("dev", show_secrets=True).outputs
    return {
        "aws-cdn": prod["eventhorizon"]["connection"],
        "aws-no-cdn": prod_without_cdn["eventhorizon"]["connection"],
        "aws-private": prod["chat"]["connection"],
        "minio": dev["eventhorizon"]["connection"],
    }


def by_kind(plan: Plan) -> dict:
    """A component's resources by the last part of their type (`Bucket`, `IamUser`, ...)."""
    return {r.type.rsplit(":", 1)[-1]: r for r in plan.resources}


def policy_document(resource) -> dict:
    return json.loads(resource.inputs["policy"])
