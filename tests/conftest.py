"""Shared fixtures: stacks and programs evaluated under Pulumi's mock runtime (no CLI, no cloud)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cli.offline import (Plan, evaluate, evaluate_stack, run_main, stack_config_values,  # noqa: E402
                                to_config_text)
from components.settings import StackSettings, parse_settings  # noqa: E402
from cli.stack_outputs import connection_of  # noqa: E402


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


# The shapes of connection a shipped stack gives an app: (offline plan, app) they are taken from.
CONNECTION_SHAPES = {
    "aws-cdn": ("prod", "eventhorizon"),            # public areas behind CloudFront
    "aws-no-cdn": ("prod-without-cdn", "eventhorizon"),  # public areas served by S3 (publicWithoutCdn)
    "aws-private": ("prod", "chat"),                # only private areas
    "minio": ("dev", "eventhorizon"),
}


@pytest.fixture(scope="session")
def shown_plans() -> dict[str, Plan]:
    """Offline plans with the (mock) secrets shown: prod, dev, and prod without its CDN."""
    without_cdn = {**stack_values("prod"), "app-storage:cdn": {"enabled": False},
                   "app-storage:publicWithoutCdn": True}
    return {
        "prod": evaluate_stack("prod", show_secrets=True),
        "prod-without-cdn": evaluate("prod", as_config(without_cdn), run_main, show_secrets=True),
        "dev": evaluate_stack("dev", show_secrets=True),
    }


@pytest.fixture(scope="session")
def connection_shapes(shown_plans) -> dict[str, dict]:
    """Each shape's neutral connection, from the stacks' own plans rather than written by hand."""
    return {shape: connection_of(shown_plans[plan].outputs, app) for shape, (plan, app) in CONNECTION_SHAPES.items()}


def by_kind(plan: Plan) -> dict:
    """A component's resources by the last part of their type (`Bucket`, `IamUser`, ...)."""
    return {r.type.rsplit(":", 1)[-1]: r for r in plan.resources}


def policy_document(resource) -> dict:
    return json.loads(resource.inputs["policy"])
