"""The docs cannot drift: `Pulumi.yaml`'s config schema and the README's configuration reference are held
to the one table of keys in `components/settings/schema.py`."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from components.settings import schema
from components.settings.schema import Key
from tests.helpers import ROOT

SCALAR_TYPES = ("string", "boolean", "integer")
README = (ROOT / "README.md").read_text()


def literal(value) -> str:
    """How the README writes a default: `true`, `90`, `aes256`, `""`, `{}`, `["*"]`."""
    if isinstance(value, str):
        return value or '""'
    return json.dumps(value)


def table_rows(heading: str, until: str) -> dict[str, list[str]]:
    """The README table under `heading` (up to `until`): first column (a key in backticks) -> its cells."""
    section = README.split(heading, 1)[1].split(until, 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`([^`]+)`", cells[0]) if line.startswith("|") else None
        if match:
            rows[match.group(1)] = cells
    return rows


STACK_ROWS = table_rows("## Configuration reference", "Per app")
APP_ROWS = table_rows("Per app (`app-storage:apps.<app>`)", "Unknown keys")


def test_pulumi_yaml_declares_every_scalar_key_as_the_table_does():
    config = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    declared = {name: entry for name, entry in config.items() if "type" in entry}
    scalar = {key.name: key for key in schema.STACK_KEYS if key.type in SCALAR_TYPES}
    assert set(declared) == set(scalar)
    for name, key in scalar.items():
        assert declared[name] == {"type": key.type, "default": key.default, "description": key.meaning}, name
    assert set(config) - set(declared) == {"apps"}  # the one project-level value, shared by every stack


def assert_row_documents(cells: list[str], key: Key) -> None:
    """A table row `| key | type | default | meaning |` states the key's type and, where it has one, its default."""
    _, documented_type, default, meaning = cells
    assert documented_type == key.type and meaning
    if key.default is not None:
        assert f"`{literal(key.default)}`" in default


def assert_nested_keys_documented(meaning: str, keys: tuple[Key, ...]) -> None:
    """The row of a map or list names each key inside it, with its default: "`storageClass` (`STANDARD_IA`"."""
    for key in keys:
        assert f"`{key.name}`" in meaning, key.name
        if key.default is not None and key.type != "map" and key.default != []:
            assert f"`{key.name}` (`{literal(key.default)}`" in meaning, key.name


@pytest.mark.parametrize("key", schema.STACK_KEYS, ids=lambda key: key.name)
def test_readme_documents_each_stack_key_with_its_type_and_default(key: Key):
    assert_row_documents(STACK_ROWS[key.name], key)


@pytest.mark.parametrize("key", schema.MINIO_PROVIDER_SETTINGS, ids=lambda key: key.name)
def test_readme_documents_the_minio_provider_settings(key: Key):
    assert_row_documents(STACK_ROWS[f"minio:{key.name}"], key)


@pytest.mark.parametrize("key", schema.APP_KEYS, ids=lambda key: key.name)
def test_readme_documents_each_app_key(key: Key):
    assert_row_documents(APP_ROWS[key.name], key)


@pytest.mark.parametrize("rows, row, keys", [
    (STACK_ROWS, "replication", schema.REPLICATION_KEYS), (STACK_ROWS, "cdn", schema.CDN_KEYS),
    (APP_ROWS, "areas", schema.AREA_KEYS), (APP_ROWS, "cors", schema.CORS_KEYS),
    (APP_ROWS, "lifecycle", schema.LIFECYCLE_KEYS + schema.TRANSITION_KEYS),
    (APP_ROWS, "keep", schema.KEEP_KEYS + schema.KEPT_LIFECYCLE_KEYS),
    (STACK_ROWS, "identity", schema.IDENTITY_KEYS + schema.ROTATION_KEYS + schema.TRUST_KEYS + schema.OIDC_KEYS),
], ids=lambda value: value if isinstance(value, str) else "")
def test_readme_documents_each_key_inside_a_map_or_list(rows, row, keys):
    assert_nested_keys_documented(rows[row][3], keys)


def test_a_component_owns_each_default_it_uses():
    """The gate reads the defaults of the keys the components take from the components' own Args."""
    from components.aws.replication import ReplicationArgs
    from components.aws.secure_bucket import SecureBucketArgs
    from components.minio.minio_bucket import MinioBucketArgs
    stack = schema.STACK_DEFAULTS
    assert (stack["versioning"], stack["protectData"], stack["noncurrentVersionExpirationDays"]) == (
        SecureBucketArgs.versioning, SecureBucketArgs.protect_data, SecureBucketArgs.noncurrent_version_expiration_days)
    # MinIO buckets default exactly as their AWS twins do.
    for field in ("versioning", "noncurrent_version_expiration_days", "protect_data", "force_destroy"):
        assert getattr(MinioBucketArgs, field) == getattr(SecureBucketArgs, field), field
    assert schema.REPLICATION_DEFAULTS["storageClass"] == ReplicationArgs.storage_class
