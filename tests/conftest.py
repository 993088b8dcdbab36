"""Shared fixtures: the shipped stacks evaluated under Pulumi's mock runtime (no CLI, no cloud). Helpers that
tests import live in `tests/helpers.py`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cli.offline import Plan, evaluate, evaluate_stack, run_main  # noqa: E402
from cli.stack_outputs import connection_of  # noqa: E402
from tests.helpers import CONNECTION_SHAPES, as_config, stack_values  # noqa: E402


@pytest.fixture(scope="session")
def prod_plan() -> Plan:
    return evaluate_stack("prod")


@pytest.fixture(scope="session")
def dev_plan() -> Plan:
    return evaluate_stack("dev")


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
