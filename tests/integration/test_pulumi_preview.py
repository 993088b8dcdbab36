"""`pulumi preview` of the shipped prod stack through the Automation API, against real AWS.

Runs wherever the Pulumi CLI and AWS credentials exist; elsewhere it skips and says which is missing.
It previews only (nothing is created), with a throwaway local backend.
"""

from __future__ import annotations

import os
import shutil

import pytest

from components.offline import evaluate_stack
from tests.conftest import ROOT

pytestmark = [
    pytest.mark.skipif(shutil.which("pulumi") is None,
                       reason="needs the Pulumi CLI on PATH (no registry here ships it); "
                              "the offline plan covers the same program under mocks"),
    pytest.mark.skipif(not (os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE")),
                       reason="needs AWS credentials (AWS_ACCESS_KEY_ID or AWS_PROFILE) for the provider to plan"),
]


def test_preview_creates_exactly_what_the_offline_plan_declares(tmp_path):
    from pulumi import automation

    offline = evaluate_stack("prod")
    options = automation.LocalWorkspaceOptions(env_vars={
        "PULUMI_BACKEND_URL": f"file://{tmp_path}",
        "PULUMI_CONFIG_PASSPHRASE": "integration-test-only",
    })
    stack = automation.create_or_select_stack("prod", work_dir=str(ROOT), opts=options)
    try:
        result = stack.preview()
        assert result.change_summary.get("create") == len(offline.resources) + 1  # + the stack itself
    finally:
        # preserve_config: `stack rm` would otherwise delete the shipped Pulumi.prod.yaml.
        stack.workspace.remove_stack("prod", force=True, preserve_config=True)
