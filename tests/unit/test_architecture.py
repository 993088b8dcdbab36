"""Dependencies point one way: the command (`cli/`) imports the Pulumi library (`components/`), never the
reverse; the library holds no mock runtime and no file writing, so what `pulumi up` runs is only the library."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import ROOT

# What only the command may use: itself, Pulumi's mock runtime, file locking and temporary files, the .env
# parser and the YAML reader.
COMMAND_ONLY = ("cli", "pulumi.runtime.mocks", "tempfile", "fcntl", "dotenv", "ruamel", "yaml", "subprocess",
                "policies")


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


LIBRARY = sorted([*ROOT.glob("components/**/*.py"), ROOT / "__main__.py", *ROOT.glob("plugin/*.py")])


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


def test_the_readme_layout_matches_the_tree():
    """Every module of the library and the command is in the README's layout, and every path it names exists."""
    readme = (ROOT / "README.md").read_text()
    layout = readme.split("## Layout", 1)[1].split("```", 2)[1]
    named = set()
    parents: list[tuple[int, str]] = []
    for line in layout.strip("\n").splitlines():
        indent = len(line) - len(line.lstrip())
        entry = line.strip().split("  ")[0].strip()
        parents = [(depth, path) for depth, path in parents if depth < indent]
        base = parents[-1][1] if parents else ""
        for part in entry.split(", "):
            named.add(base + part)
        if entry.endswith("/"):
            parents.append((indent, base + entry))
    concrete = {path for path in named if "<" not in path and "{" not in path}
    assert all((ROOT / path).exists() for path in concrete), sorted(p for p in concrete if not (ROOT / p).exists())
    modules = {str(p.relative_to(ROOT)) for p in [*ROOT.glob("components/**/*.py"), *ROOT.glob("cli/*.py"),
                                                  *ROOT.glob("policies/**/*.py")]
               if p.name not in ("__init__.py", "__main__.py")}
    covered = {m for m in modules if m in named or any(m.startswith(d) and d.endswith("/") and d.count("/") > 1
                                                        for d in named)}
    # aws/ and minio/ are named as folders with their components listed; every other module by its file.
    covered |= {m for m in modules if m.startswith(("components/aws/", "components/minio/"))}
    assert modules == covered, sorted(modules - covered)


PACK_MODULES = sorted(ROOT.glob("policies/**/*.py"))
PACK_MAY_IMPORT = ("pulumi_policy", "rules")
"""The pack runs as the CLI runs it: from its own directory, in its own virtualenv (policies/requirements.txt),
with nothing of this project importable; its rules import each other relatively."""


@pytest.mark.parametrize("path", PACK_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_pack_stands_alone(path):
    import sys

    imported = {name.split(".")[0] for name in imported_modules(path)}
    foreign = {name for name in imported if name not in sys.stdlib_module_names and name not in PACK_MAY_IMPORT
               and name != "__future__"}
    assert not foreign, f"{path.name} imports {sorted(foreign)}: the pack must need only pulumi-policy"


def _pins(path: Path) -> dict[str, str]:
    return {line.split("==")[0].lower(): line.strip() for line in path.read_text().splitlines()
            if "==" in line and not line.startswith("#")}


@pytest.mark.parametrize("folder", ["policies", "plugin"])
def test_the_pack_and_the_plugin_pin_what_the_project_pins(folder):
    """Each runs in a virtualenv of its own, built from its own requirements.txt."""
    own, project = _pins(ROOT / folder / "requirements.txt"), _pins(ROOT / "requirements.txt")
    assert own and all(project.get(name) == pin for name, pin in own.items()), (own, project)


def test_the_plugin_imports_the_library_and_the_sdk_only():
    """The plugin serves the library's components; the command (and its tools) stays out of it, even at run time:
    loading it imports no `cli` module."""
    import subprocess
    import sys

    imported = {name.split(".")[0] for name in imported_modules(ROOT / "plugin" / "__main__.py")}
    assert imported - set(sys.stdlib_module_names) == {"pulumi", "components"}
    loaded = subprocess.run(
        [sys.executable, "-c", "import runpy, sys; runpy.run_path(sys.argv[1], run_name='plugin'); "
         "print(sorted({m.split('.')[0] for m in sys.modules}))", str(ROOT / "plugin" / "__main__.py")],
        capture_output=True, text=True, check=True, cwd="/").stdout
    assert "'components'" in loaded and "'cli'" not in loaded and "'pulumi_policy'" not in loaded, loaded


def test_nothing_points_outside_the_repository():
    text = (ROOT / "README.md").read_text() + "".join(p.read_text() for p in ROOT.glob("components/**/*.py"))
    assert "DESIGN.md" not in text and "../shared" not in text


def test_each_verb_imports_only_what_it_uses_and_a_plan_reads_the_project_file_once():
    """`python -X importtime`: `plan --no-policy` loads neither the bench, the policy runner (and its gRPC client and
    JSON-schema validator) nor the change model; an audit hook sees `Pulumi.yaml` opened once for a whole plan."""
    import subprocess
    import sys
    script = ("import sys, collections, io, contextlib\n"
              "opened = collections.Counter()\n"
              "sys.addaudithook(lambda event, args: opened.update([args[0]]) if event == 'open' and "
              "isinstance(args[0], str) and args[0].endswith('Pulumi.yaml') else None)\n"
              "from cli.main import main\n"
              "with contextlib.redirect_stdout(io.StringIO()):\n"
              "    main(['plan', '--stack', 'prod', '--json', '--no-policy'])\n"
              "print(sum(opened.values()))\n")
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", script], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import")}
    assert not imported & {"cli.bench", "cli.policy", "cli.change", "cli.verify", "cli.adopt", "pulumi_policy",
                           "jsonschema"}, sorted(imported & {"cli.bench", "cli.policy", "cli.change"})
    assert result.stdout.strip() == "1"
