"""`make verify`'s pure parts: reading a `.env` back in any dialect, and the health report's status."""

from __future__ import annotations

import pytest

from cli.verify import Check, HealthReport, Target, VerifyError, read_target
from components import dialects
from tests.helpers import CONNECTION_SHAPES

READ_BACK = ("bucket", "access_key_id", "secret_access_key", "region", "endpoint", "backend")


@pytest.mark.parametrize("dialect", sorted(dialects.DIALECTS))
@pytest.mark.parametrize("shape", sorted(CONNECTION_SHAPES))
def test_each_dialect_reads_back_the_connection_it_wrote(connection_shapes, dialect, shape):
    connection = connection_shapes[shape]
    values = dialects.render_env(dialect, connection)
    assert dialects.detect_dialect(values) == dialect
    read = dialects.read_env(dialect, values)
    for key in READ_BACK:
        if key == "region" and dialect == "object-storage" and not values.get("OBJECT_STORAGE_REGION"):
            continue
        assert read.get(key) == connection.get(key), key
    if connection.get("endpoint"):
        assert read["path_style"] == connection["path_style"] and read["use_tls"] == connection["use_tls"]
    if dialect == "django":
        assert read["area_prefixes"] == connection["area_prefixes"]


def test_a_mixed_or_foreign_env_names_no_dialect():
    with pytest.raises(dialects.DialectError, match="name its dialect"):
        dialects.detect_dialect({"S3_BUCKET": "a", "AWS_S3_BUCKET": "a"})
    with pytest.raises(dialects.DialectError, match="no bucket variable"):
        dialects.detect_dialect({"DATABASE_URL": "x"})


def test_an_env_without_areas_needs_the_stack_outputs(connection_shapes, tmp_path):
    env_file = tmp_path / "app.env"
    env_file.write_text("".join(f"{k}='{v}'\n" for k, v in dialects.render_env(
        "s3", connection_shapes["minio"]).items()))
    with pytest.raises(VerifyError, match="STACK=<stack>, or FROM="):
        read_target(env_file, None, None, None, None)


@pytest.mark.parametrize("statuses, overall", [(["pass", "pass"], "healthy"), (["pass", "skip"], "degraded"),
                                               (["skip", "fail"], "failing")])
def test_the_overall_status(statuses, overall):
    report = HealthReport("a", "b", "e", [Check(f"c{i}", status) for i, status in enumerate(statuses)])
    assert report.overall_status == overall and report.as_dict()["overall_status"] == overall


def test_areas_split_into_public_and_private():
    target = Target({"bucket": "b", "area_prefixes": {"media": "media/", "files": "files/"},
                     "public_areas": ["media"]})
    assert (target.public_areas, target.private_areas) == (["media"], ["files"])
