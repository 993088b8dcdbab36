"""Odd and hostile stack files: each exits 2 with one clear line naming the file, or plans exactly as the
Pulumi CLI would read it (yaml.v3, YAML 1.2). Run in process through the command's entry."""

from __future__ import annotations

import json

import pytest

from cli import main as cli

PROD = "config:\n  aws:region: us-east-1\n  app-storage:encryption: kms\n  app-storage:cdn: {enabled: true}\n"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8))


def plan(tmp_path, capsys, content, name: str = "Pulumi.odd.yaml"):
    stack_file = tmp_path / name
    if isinstance(content, bytes):
        stack_file.write_bytes(content)
    else:
        stack_file.write_text(content)
    code = cli.main(["plan", "--stack", "odd", "--stack-file", str(stack_file), "--json"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("content, expected", [
    pytest.param(PROD + "  app-storage:protectData: true\n  protectData: false\n  forceDestroy: true\n",
                 "'app-storage:protectData' and 'protectData' both set", id="two-spellings-of-one-key"),
    pytest.param(PROD.replace("encryption: kms", "encryption: kms\n  encryption: aes256"),
                 "'app-storage:encryption' and 'encryption' both set", id="two-spellings-of-encryption"),
    pytest.param(PROD + "  app-storage:protectData: no\n", "'protectData' must be of type 'boolean'", id="yaml-1.1-no"),
    pytest.param(PROD + "  app-storage:forceDestroy: on\n", "'forceDestroy' must be of type 'boolean'",
                 id="yaml-1.1-on"),
    pytest.param(PROD + "  app-storage:noncurrentVersionExpirationDays: 1:30\n",
                 "'noncurrentVersionExpirationDays' must be of type 'integer'", id="sexagesimal"),
    pytest.param(BOMB, "excessive aliasing", id="alias-bomb"),
    pytest.param("- a\n- b\n", "not a list", id="top-level-list"),
    pytest.param("just text\n", "not a text", id="top-level-string"),
    pytest.param("42\n", "not a number", id="top-level-number"),
    pytest.param(b"config:\n  aws:region: \xff\xfe-bad\n", "is not UTF-8 text", id="invalid-utf8"),
    pytest.param(b"\xff\xfe" + "config: {}".encode("utf-16-le") + b"\x00", "is not UTF-16 text", id="invalid-utf16"),
    pytest.param("config:\n  1: x\n", "key 1 under config is not text", id="non-string-key"),
    pytest.param(PROD + "  app-storage:bucketPrefix: !!binary aGVsbG8=\n", "!!binary", id="binary"),
    pytest.param("config:\n  app-storage:apps: " + "[" * 3000 + "]" * 3000 + "\n", "nested", id="deep-nesting"),
    pytest.param("config:\n  app-storage:apps: &a [*a]\n", "refers to the value that contains it", id="self-alias"),
    pytest.param("config: [a, b]\n", "`config` must be a map", id="config-a-list"),
    pytest.param(PROD + "  app-storage:tags: {a: .inf}\n", "is not a number config can hold", id="infinity"),
    pytest.param("config:\n  app-storage:apps: {a: {dialect: s3}\n", "is not valid YAML", id="unclosed-brace"),
])
def test_exits_2_with_one_line_naming_the_file(tmp_path, capsys, content, expected):
    code, out, err = plan(tmp_path, capsys, content)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert "Pulumi.odd.yaml" in err and expected in err, err
    assert "Traceback" not in err


def test_a_directory_as_the_stack_file_exits_2(tmp_path, capsys):
    (tmp_path / "Pulumi.dir.yaml").mkdir()
    code = cli.main(["plan", "--stack", "dir", "--stack-file", str(tmp_path / "Pulumi.dir.yaml")])
    err = capsys.readouterr().err
    assert code == 2 and "not a file" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("content", [
    pytest.param(PROD + "  app-storage:tags: {team: &team storage, owner: *team}\n", id="anchor"),
    pytest.param(PROD.replace("app-storage:cdn: {enabled: true}", "app-storage:cdn:\n    <<: {enabled: true}\n"
                              "    priceClass: PriceClass_200"), id="merge-key"),
    pytest.param(PROD + "  app-storage:bucketPrefix: 2001-12-14\n", id="date-stays-text"),
    pytest.param("\ufeff" + PROD, id="utf8-bom"),
    pytest.param(PROD.encode("utf-16"), id="utf16-with-bom"),
])
def test_valid_yaml_the_cli_reads_plans(tmp_path, capsys, content):
    code, out, err = plan(tmp_path, capsys, content)
    assert code == 0, err


def test_a_merge_key_and_a_date_reach_the_program_as_the_cli_reads_them(tmp_path, capsys):
    content = PROD.replace("app-storage:cdn: {enabled: true}", "app-storage:cdn:\n    <<: {enabled: true}\n"
                           "    priceClass: PriceClass_200") + "  app-storage:bucketPrefix: 2001-12-14\n"
    code, out, err = plan(tmp_path, capsys, content)
    assert code == 0, err
    resources = json.loads(out)["resources"]
    distributions = [r for r in resources if r["type"] == "aws:cloudfront/distribution:Distribution"]
    assert distributions and all(d["inputs"]["priceClass"] == "PriceClass_200" for d in distributions)
    assert any(r["inputs"].get("bucket") == "2001-12-14-eventhorizon" for r in resources)
