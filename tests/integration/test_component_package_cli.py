"""The component package as the Pulumi CLI sees it: `pulumi package get-schema` runs the plugin through the Python
language host (its own virtualenv, from `plugin/requirements.txt`) and must answer the schema of the golden.
Skips, saying why, where the Pulumi CLI is not installed (this repository's CI has none)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.helpers import ROOT
from tests.unit.test_component_package import GOLDEN


@pytest.mark.skipif(shutil.which("pulumi") is None,
                    reason="needs the Pulumi CLI (3.226 or later): `pulumi package get-schema` runs the plugin")
def test_the_cli_reads_the_schema_of_the_golden_from_the_plugin():
    answer = subprocess.run(["pulumi", "package", "get-schema", str(ROOT / "plugin")], capture_output=True,
                            text=True, timeout=600, check=True)
    assert json.loads(answer.stdout) == json.loads(GOLDEN.read_text())
