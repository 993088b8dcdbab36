"""`make env` against odd and hostile targets: every line it does not own survives byte for byte, concurrent
runs keep every app's keys, special and read-only files are refused, nothing is left behind."""

from __future__ import annotations

import fnmatch
import io
import json
import multiprocessing
import os
import signal
import stat
from pathlib import Path

import pytest
from dotenv import dotenv_values
from dotenv.parser import parse_stream
from hypothesis import given, settings, strategies

from cli import env_file
from cli import main as cli
from cli.env_file import EnvFileError, env_entries, header, merge_env

NEW = {"S3_ENDPOINT": "s3.us-east-1.amazonaws.com", "S3_BUCKET": "vista", "S3_USE_SSL": "true"}
HEADER = header("prod", "vista", "s3")


@pytest.fixture(scope="module")
def outputs_file(tmp_path_factory, shown_plans) -> Path:
    path = tmp_path_factory.mktemp("outputs") / "prod.json"
    path.write_text(json.dumps(shown_plans["prod"].as_dict()))
    return path


def env(outputs_file: Path, out: Path, app: str = "chat", *extra: str) -> int:
    return cli.main(["env", "--stack", "prod", "--app", app, "--from", str(outputs_file), "--out", str(out), *extra])


def test_crlf_bom_and_unicode_line_separators_come_back_byte_identical_except_the_owned_keys():
    existing = ("\ufeffAPP_KEY=one\r\n# comment with a\u2028separator and a\x0cform feed\r\n"
                "NEL=a\x85b\r\nS3_BUCKET=old\r\nTAIL='x'\r\n")
    text, _ = merge_env(existing, NEW, NEW, HEADER)
    assert text.startswith("\ufeffAPP_KEY=one\r\n# comment with a\u2028separator and a\x0cform feed\r\nNEL=a\x85b\r\n")
    assert "S3_BUCKET='vista'\r\n" in text and "TAIL='x'\r\n" in text
    assert "\n" not in text.replace("\r\n", "")  # every line break is still CRLF
    assert text.count("S3_BUCKET") == 1
    again, changes = merge_env(text, NEW, NEW, HEADER)
    assert again == text and {c.kind for c in changes} == {"unchanged"}


def test_a_bom_never_hides_the_first_key():
    text, changes = merge_env("\ufeffS3_BUCKET=old\n", NEW, NEW, HEADER)
    assert text.count("S3_BUCKET") == 1 and text.startswith("\ufeff")
    assert {c.name: c.kind for c in changes}["S3_BUCKET"] == "changed"


# Entries the merge does not own: any text python-dotenv reads, including odd line breaks and quoting.
other_lines = strategies.lists(strategies.one_of(
    strategies.from_regex(r"\A[A-Z][A-Z0-9_]{0,6}=[a-z0-9 '\"#=\u2028\x85\x0c-]{0,12}\Z"),
    strategies.from_regex(r"\A# [ -~\u2028\xe9]{0,20}\Z"),
    strategies.just(""),
    strategies.just('MULTI="a\nS3_BUCKET=inside\nb"'),
    strategies.just("export OTHER=1"),
), max_size=8)


@settings(max_examples=150, deadline=None)
@given(other_lines, strategies.sampled_from(["\n", "\r\n"]), strategies.booleans())
def test_the_merge_keeps_every_entry_it_does_not_own(lines, newline, bom):
    existing = ("\ufeff" if bom else "") + newline.join(lines) + (newline if lines else "")
    try:
        text, _ = merge_env(existing, NEW, NEW, HEADER)
    except EnvFileError as refused:  # only where python-dotenv itself cannot read the file
        assert any(binding.error for binding in parse_stream(io.StringIO(existing, newline="")))
        assert "python-dotenv cannot read" in str(refused)
        return
    body = existing[1:] if bom else existing
    kept = [chunk for name, chunk in env_entries(body) if name not in NEW]
    merged = [chunk for name, chunk in env_entries(text[1:] if bom else text)
              if name not in NEW and not chunk.startswith(HEADER)]
    assert "".join(merged).rstrip("\r\n") == "".join(kept).rstrip("\r\n")
    assert dotenv_values(stream=io.StringIO(text))["S3_BUCKET"] == "vista"


def test_a_read_only_file_is_refused_unless_forced(outputs_file, tmp_path, capsys):
    target = tmp_path / ".env"
    target.write_text("DEBUG=1\n")
    target.chmod(0o444)
    assert env(outputs_file, target) == 2
    assert "read-only (mode 0444); FORCE=1 replaces it" in capsys.readouterr().err
    assert target.read_text() == "DEBUG=1\n"
    assert env(outputs_file, target, "chat", "--force") == 0
    assert "OBJECT_STORAGE_BUCKET" in target.read_text()


@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_special_files_are_refused_and_never_replaced(outputs_file, tmp_path, capsys, kind):
    target = {"device": Path("/dev/null"), "fifo": tmp_path / "pipe.env", "directory": tmp_path / "dir.env"}[kind]
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
    before = target.stat().st_mode
    assert env(outputs_file, target) == 2
    assert "make env writes only regular files" in capsys.readouterr().err
    assert target.stat().st_mode == before


def test_temporary_files_are_named_for_gitignore_and_removed_on_sigterm(outputs_file, tmp_path, monkeypatch):
    target = tmp_path / ".env"
    target.write_text("DEBUG=1\n")
    seen = []

    def terminated(descriptor):
        seen.extend(p.name for p in tmp_path.iterdir() if p.name != ".env")
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(env_file.os, "fsync", terminated)
    with pytest.raises(SystemExit) as stopped:
        env(outputs_file, target)
    assert stopped.value.code == 128 + signal.SIGTERM
    assert [p.name for p in tmp_path.iterdir()] == [".env"] and target.read_text() == "DEBUG=1\n"
    [temporary] = seen
    assert all(fnmatch.fnmatch(temporary, pattern) for pattern in ("*.env", ".env*", ".env.*"))
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


@pytest.mark.parametrize("document, expected", [
    ({"stack": "prod", "warnings": [], "resources": [], "outputs": []}, "`outputs` is a list"),
    ({"chat": ["not", "an", "app"]}, "output 'chat' of stack prod is a list"),
    ({"chat": {"connection": {"backend": "aws", "region": "us-east-1", "bucket": "b", "access_key_id": "k",
                              "secret_access_key": "s", "area_prefixes": ["x"], "public_areas": [],
                              "presign_seconds": {}}, "dialect": "s3"}}, "connection area_prefixes is not"),
])
def test_a_malformed_outputs_document_is_one_clear_message(tmp_path, capsys, document, expected):
    source = tmp_path / "o.json"
    source.write_text(json.dumps(document))
    assert env(source, tmp_path / ".env") == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err and not (tmp_path / ".env").exists()


def _write_app(outputs_file: str, out: str, app: str) -> int:
    return env(Path(outputs_file), Path(out), app)


def test_two_concurrent_runs_into_one_file_keep_both_apps_keys(outputs_file, tmp_path):
    context = multiprocessing.get_context("fork")
    with context.Pool(2) as pool:
        for round_number in range(20):
            target = tmp_path / f"round{round_number}.env"
            target.write_text("DEBUG=1\n")
            codes = pool.starmap(_write_app, [(str(outputs_file), str(target), "chat"),
                                              (str(outputs_file), str(target), "vista")])
            assert codes == [0, 0]
            values = dotenv_values(target)
            assert values["OBJECT_STORAGE_BUCKET"] == "app-storage-prod-chat", round_number
            assert values["S3_BUCKET"] == "app-storage-prod-vista", round_number
            assert values["DEBUG"] == "1"
            assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_an_unclosed_quote_that_would_swallow_the_new_keys_stops_the_write(outputs_file, tmp_path, capsys):
    target = tmp_path / ".env"
    target.write_text("DEBUG=1\nAPP_KEY='never closed\n")
    assert env(outputs_file, target) == 2
    assert "line 2 of the file is something python-dotenv cannot read" in capsys.readouterr().err
    assert target.read_text() == "DEBUG=1\nAPP_KEY='never closed\n"
