"""The `.env` dialect table and the `.env` file: every dialect × connection shape, quoting that three
parsers read back alike, and merging that touches only the dialect's own keys."""

from __future__ import annotations

import io
import os
import stat
import subprocess
from pathlib import Path

import pytest
from dotenv import dotenv_values

from cli import env_file
from cli.env_file import EnvFileError, header, merge_env, quote
from cli.offline import evaluate, run_main
from components import dialects
from components.dialects import DialectError, render_env
from tests.helpers import as_config, stack_values

SHAPES = ("aws-cdn", "aws-no-cdn", "aws-private", "minio")
EVENTHORIZON_LOCATIONS = {"AWS_MEDIA_LOCATION", "AWS_STATIC_LOCATION", "AWS_PRIVATE_LOCATION"}

# What each dialect must hold in each shape (the table); anything else is a failure.
DJANGO = {"STORAGE_BACKEND", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_STORAGE_BUCKET_NAME",
          "AWS_S3_REGION_NAME", "AWS_S3_USE_SSL", "AWS_QUERYSTRING_EXPIRE", "AWS_S3_SIGNATURE_VERSION"}
S3 = {"S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY", "S3_BUCKET", "S3_USE_SSL", "S3_REGION"}
OBJECT_STORAGE = {"OBJECT_STORAGE_ENABLED", "OBJECT_STORAGE_PROVIDER", "OBJECT_STORAGE_BUCKET",
                  "OBJECT_STORAGE_ACCESS_KEY", "OBJECT_STORAGE_SECRET_KEY", "OBJECT_STORAGE_REGION"}
LARAVEL = {"FILESYSTEM_DISK", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_BUCKET",
           "AWS_USE_PATH_STYLE_ENDPOINT"}
AWS_SDK = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_S3_BUCKET"}
EXPECTED = {
    ("django", "aws-cdn"): DJANGO | EVENTHORIZON_LOCATIONS | {"AWS_S3_CUSTOM_DOMAIN"},
    ("django", "aws-no-cdn"): DJANGO | EVENTHORIZON_LOCATIONS,
    ("django", "aws-private"): DJANGO | {"AWS_UPLOADS_LOCATION"},
    ("django", "minio"): DJANGO | EVENTHORIZON_LOCATIONS | {"AWS_S3_ENDPOINT_URL", "AWS_S3_ADDRESSING_STYLE"},
    **{("s3", shape): S3 for shape in SHAPES},
    **{("object-storage", shape): OBJECT_STORAGE for shape in SHAPES[:3]},
    ("object-storage", "minio"): OBJECT_STORAGE | {"OBJECT_STORAGE_ENDPOINT"},
    ("laravel", "aws-cdn"): LARAVEL | {"AWS_URL"},
    ("laravel", "aws-no-cdn"): LARAVEL | {"AWS_URL"},
    ("laravel", "aws-private"): LARAVEL,
    ("laravel", "minio"): LARAVEL | {"AWS_URL", "AWS_ENDPOINT"},
    **{("aws-sdk", shape): AWS_SDK for shape in SHAPES[:3]},
    ("aws-sdk", "minio"): AWS_SDK | {"AWS_ENDPOINT_URL_S3"},
}


def test_the_table_covers_every_dialect_and_shape():
    assert {dialect for dialect, _ in EXPECTED} == set(dialects.DIALECTS)
    assert len(EXPECTED) == len(dialects.DIALECTS) * len(SHAPES)


@pytest.mark.parametrize("dialect, shape", sorted(EXPECTED))
def test_each_dialect_renders_exactly_its_keys_and_no_empty_value(connection_shapes, dialect, shape):
    values = render_env(dialect, connection_shapes[shape])
    assert set(values) == EXPECTED[dialect, shape]
    assert all(isinstance(value, str) and value for value in values.values())
    assert not any(value in ("None", "[secret]", "[unknown]") for value in values.values())


@pytest.mark.parametrize("dialect", dialects.DIALECTS)
@pytest.mark.parametrize("shape", SHAPES)
def test_rendered_file_reads_back_identically_with_python_dotenv(connection_shapes, dialect, shape):
    values = render_env(dialect, connection_shapes[shape])
    text, _ = merge_env("", values, values, header("prod", "app", dialect))
    assert dotenv_values(stream=io.StringIO(text)) == values


def read_with_the_shell(text: str, directory) -> dict:
    """What `set -a; . ./.env` exports from `text`, in an otherwise empty environment."""
    path = directory / ".env"
    path.write_text(text)
    shell = subprocess.run(["sh", "-c", 'set -a; . "$1"; env -0', "sh", str(path)], env={"PATH": os.environ["PATH"]},
                           capture_output=True, text=True, check=True)
    return dict(item.split("=", 1) for item in shell.stdout.split("\0") if "=" in item)


@pytest.mark.parametrize("shape", SHAPES)
def test_rendered_file_reads_back_identically_with_the_shell(connection_shapes, shape, tmp_path):
    values = render_env("django", connection_shapes[shape])
    exported = read_with_the_shell(merge_env("", values, values, header("prod", "app", "django"))[0], tmp_path)
    assert {name: exported.get(name) for name in values} == values


def test_awkward_but_quotable_values_read_back_with_python_dotenv_and_the_shell(tmp_path):
    values = {"A": "p@ss w0rd#not-a-comment", "B": 'say "hi"', "C": "$HOME$PATH`id`", "D": "a=b;c&d|e"}
    text = "".join(quote(name, value) + "\n" for name, value in values.items())
    assert dotenv_values(stream=io.StringIO(text)) == values
    exported = read_with_the_shell(text, tmp_path)
    assert {name: exported.get(name) for name in values} == values


@pytest.mark.parametrize("value", ["it's", "back\\slash", "two\nlines", "${HOME}"])
def test_fails_a_value_no_quoting_carries_through_every_parser(value):
    with pytest.raises(EnvFileError, match=r"^S3_SECRET_KEY: the value holds .* Set S3_SECRET_KEY by hand"):
        quote("S3_SECRET_KEY", value)


def test_fails_unknown_dialect_naming_the_known_ones(connection_shapes):
    with pytest.raises(DialectError, match="unknown dialect 'rails'; use one of: django, s3, object-storage"):
        render_env("rails", connection_shapes["minio"])


def test_values_follow_the_connection(connection_shapes):
    minio, cdn = connection_shapes["minio"], connection_shapes["aws-cdn"]
    django = render_env("django", minio)
    assert django["STORAGE_BACKEND"] == "minio" and django["AWS_S3_USE_SSL"] == "False"
    assert django["AWS_S3_ENDPOINT_URL"] == "http://localhost:9000" and django["AWS_S3_ADDRESSING_STYLE"] == "path"
    assert django["AWS_MEDIA_LOCATION"] == "media" and django["AWS_QUERYSTRING_EXPIRE"] == "3600"
    assert render_env("s3", minio)["S3_ENDPOINT"] == "localhost:9000"
    assert render_env("s3", cdn)["S3_ENDPOINT"] == "s3.us-east-1.amazonaws.com"
    assert render_env("django", cdn)["AWS_S3_CUSTOM_DOMAIN"] == cdn["public_base_url"].removeprefix("https://")
    assert render_env("django", cdn)["AWS_S3_USE_SSL"] == "True"
    laravel = render_env("laravel", minio)
    assert laravel["AWS_URL"] == f"http://localhost:9000/{minio['bucket']}"
    assert laravel["AWS_USE_PATH_STYLE_ENDPOINT"] == "true"
    assert render_env("laravel", cdn)["AWS_USE_PATH_STYLE_ENDPOINT"] == "false"
    assert render_env("object-storage", cdn)["OBJECT_STORAGE_PROVIDER"] == "s3"
    sdk = render_env("aws-sdk", minio)
    assert sdk["AWS_DEFAULT_REGION"] == sdk["AWS_REGION"] == "us-east-1"
    assert sdk["AWS_SECRET_ACCESS_KEY"] == minio["secret_access_key"]


def test_presign_expiry_is_the_strictest_private_area():
    connection = {"region": "eu-west-1", "bucket": "b", "presign_seconds": {"a": 900, "b": 3600},
                  "area_prefixes": {"a": "a/", "b": "b/"}}
    assert render_env("django", connection)["AWS_QUERYSTRING_EXPIRE"] == "900"


def test_only_the_secret_key_is_marked_secret(connection_shapes):
    secret = {dialect: dialects.secret_names(dialect, connection_shapes["minio"]) for dialect in dialects.DIALECTS}
    assert secret == {"django": {"AWS_SECRET_ACCESS_KEY"}, "s3": {"S3_SECRET_KEY"},
                      "object-storage": {"OBJECT_STORAGE_SECRET_KEY"}, "laravel": {"AWS_SECRET_ACCESS_KEY"},
                      "aws-sdk": {"AWS_SECRET_ACCESS_KEY"}}


# --- merging into an existing file -----------------------------------------------------------------

NEW = {"S3_ENDPOINT": "s3.us-east-1.amazonaws.com", "S3_BUCKET": "vista", "S3_USE_SSL": "true"}
HEADER = header("prod", "vista", "s3")


def test_merge_into_a_new_file_writes_the_header_then_the_keys():
    text, changes = merge_env("", NEW, NEW, HEADER)
    assert text.splitlines() == [HEADER, *(f"{name}='{value}'" for name, value in NEW.items())]
    assert [c.kind for c in changes] == ["added"] * 3


def test_merge_keeps_every_other_line_and_rewrites_own_keys_in_place():
    existing = ("# database\nDATABASE_URL=postgres://u@db/app\n\nexport S3_BUCKET=old\nDEBUG=1  # inline\n"
                "S3_USE_SSL='true'\n")
    text, changes = merge_env(existing, NEW, NEW, HEADER)
    assert text.splitlines() == [
        "# database", "DATABASE_URL=postgres://u@db/app", "", HEADER, "S3_BUCKET='vista'", "DEBUG=1  # inline",
        "S3_USE_SSL='true'", "S3_ENDPOINT='s3.us-east-1.amazonaws.com'"]
    assert {c.name: c.kind for c in changes} == {"S3_ENDPOINT": "added", "S3_BUCKET": "changed",
                                                 "S3_USE_SSL": "unchanged"}


def test_merge_twice_changes_nothing():
    once, _ = merge_env("APP_KEY=x\n", NEW, NEW, HEADER)
    twice, changes = merge_env(once, NEW, NEW, HEADER)
    assert twice == once and {c.kind for c in changes} == {"unchanged"}


def test_merge_disables_an_own_key_that_has_no_value_on_this_stack():
    dev = {**NEW, "AWS_S3_ENDPOINT_URL": "http://localhost:9000"}
    text, _ = merge_env("", dev, dev, header("dev", "vista", "s3"))
    text, changes = merge_env(text, NEW, [*NEW, "AWS_S3_ENDPOINT_URL"], HEADER)
    assert dotenv_values(stream=io.StringIO(text)) == NEW
    assert "# AWS_S3_ENDPOINT_URL='http://localhost:9000'  (no value on this stack" in text
    assert text.splitlines()[0] == HEADER  # the dev header became the prod one, in place
    assert {c.name: c.kind for c in changes}["AWS_S3_ENDPOINT_URL"] == "disabled"


def test_merge_drops_a_later_duplicate_of_an_own_key_that_would_win():
    text, _ = merge_env("S3_BUCKET=a\nS3_BUCKET=b\n", NEW, NEW, HEADER)
    assert text.count("S3_BUCKET=") == 1 and dotenv_values(stream=io.StringIO(text))["S3_BUCKET"] == "vista"


def test_merge_leaves_another_apps_section_alone():
    other = header("prod", "chat", "object-storage")
    existing = f"{other}\nOBJECT_STORAGE_BUCKET='chat'\n"
    text, _ = merge_env(existing, NEW, NEW, HEADER)
    assert text.startswith(existing) and HEADER in text


def test_private_file_is_0600_even_over_a_wider_file(tmp_path):
    path = tmp_path / ".env"
    path.write_text("OLD=1\n")
    path.chmod(0o644)
    env_file.write_private_file(path, "NEW='1'\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text() == "NEW='1'\n"
    assert [p.name for p in tmp_path.iterdir()] == [".env"]  # no temporary file left behind


def test_a_custom_cdn_domain_is_what_django_and_laravel_get():
    values = stack_values("prod")
    values["app-storage:cdn"] = {**values["app-storage:cdn"], "domains": {"eventhorizon": "media.example.com"},
                                 "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abcd-1234"}
    all_outputs = evaluate("prod", as_config(values), run_main, show_secrets=True).outputs
    outputs = all_outputs["eventhorizon"]
    assert outputs["connection"]["cdn_domain"] == "media.example.com"
    assert all_outputs["eventhorizon_env"]["AWS_S3_CUSTOM_DOMAIN"] == "media.example.com"
    assert render_env("laravel", outputs["connection"])["AWS_URL"] == "https://media.example.com"


MULTI_LINE = 'APP_KEY="line one\nS3_BUCKET=not-a-key\nline three"\n'


def test_a_multi_line_quoted_value_stays_byte_identical_and_its_lines_are_not_keys():
    existing = "# app\n" + MULTI_LINE + "DEBUG=1\n"
    text, changes = merge_env(existing, NEW, NEW, HEADER)
    assert MULTI_LINE in text
    assert text.startswith("# app\n" + MULTI_LINE + "DEBUG=1\n")
    assert {c.name: c.kind for c in changes} == {name: "added" for name in NEW}
    twice, _ = merge_env(text, NEW, NEW, HEADER)
    assert twice == text


def test_a_multi_line_owned_value_is_replaced_whole_and_a_disabled_one_commented_out_whole():
    existing = 'S3_BUCKET="old\nstill old"\nS3_REGION="a\nb"\nAFTER=1\n'
    text, _ = merge_env(existing, {"S3_BUCKET": "vista"}, ["S3_BUCKET", "S3_REGION"], HEADER)
    parsed = dotenv_values(stream=io.StringIO(text))
    assert parsed == {"S3_BUCKET": "vista", "AFTER": "1"}
    assert "# S3_REGION=\"a" in text and "# b\"" in text


def test_make_env_writes_through_a_symlinked_env_and_keeps_the_link(tmp_path, connection_shapes):
    target = tmp_path / "config" / ".env.local"
    target.parent.mkdir()
    target.write_text("DEBUG=1\n")
    link = tmp_path / ".env"
    link.symlink_to(Path("config") / ".env.local")
    env_file.update_env_file(link, "s3", connection_shapes["aws-private"], "prod", "vista")
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert "S3_BUCKET='" in target.read_text() and target.read_text().startswith("DEBUG=1\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == [".env.local"]  # no temporary file left behind
