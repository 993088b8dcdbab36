"""Dependencies point one way: the command (`cli/`) imports the Pulumi library (`components/`), never the
reverse; the library holds no mock runtime and no file writing, so what `pulumi up` runs is only the library."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import ROOT

# What only the command may use: itself, Pulumi's mock runtime, file locking and temporary files, the .env
# parser and the YAML reader.
COMMAND_ONLY = ("cli", "pulumi.runtime.mocks", "tempfile", "fcntl", "dotenv", "ruamel", "yaml", "subprocess")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


LIBRARY = sorted([*ROOT.glob("components/**/*.py"), ROOT / "__main__.py"])


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_library_never_imports_the_command_or_its_tools(path):
    forbidden = sorted(name for name in imported_modules(path)
                       if any(name == banned or name.startswith(banned + ".") for banned in COMMAND_ONLY))
    assert forbidden == []


def test_the_check_sees_a_forbidden_import(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def f():\n    from cli.offline import evaluate\n    import tempfile\n")
    assert {"cli.offline", "tempfile"} <= imported_modules(sneaky)
    assert len(LIBRARY) >= 15
