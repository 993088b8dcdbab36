"""The `.env` file `make env` writes: an app's dialect values merged into the file the app already has.

Values are written single-quoted, which python-dotenv, Laravel's phpdotenv and a POSIX shell
(`set -a; . ./.env`) all read back literally; the few characters that no single quoting carries
unchanged through all three are refused instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv.parser import parse_stream  # python-dotenv: the parser the apps' own loaders use

from components.dialects import Connection, dialect_variables, render_env


class EnvFileError(ValueError):
    """A value or file that cannot take the `.env`; the message says what to do. Raised before any write."""


HEADER_MARK = "# app-storage:"
# What no single quoting reads back the same in python-dotenv (which unescapes \\ and \' and expands
# ${NAME} even between single quotes), phpdotenv and sh.
_UNQUOTABLE = re.compile(r"['\\\n\r\x00]|\$\{")


def quote(name: str, value: str) -> str:
    """`value` single-quoted: literal for python-dotenv, Laravel and `set -a; . ./.env` alike."""
    bad = _UNQUOTABLE.search(value)
    if bad:
        raise EnvFileError(
            f"{name}: the value holds {bad.group()!r}, which python-dotenv, Laravel and sh would read "
            f"differently; nothing was written. Set {name} by hand.")
    return f"{name}='{value}'"


def header(stack: str, app: str, dialect: str) -> str:
    return f"{HEADER_MARK} app {app}, stack {stack}, {dialect} dialect (`make env` rewrites only its own keys)"


def _header_of_same_app(line: str, header_line: str) -> bool:
    """A header `make env` wrote for the same app (on whatever stack): one file may hold several apps."""
    return line.startswith(header_line.split(",")[0] + ",")


@dataclass(frozen=True)
class Change:
    name: str
    kind: str
    """added, changed, unchanged, or disabled (a key of the dialect with no value now: commented out)."""


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+")
UTF8_BOM = "\ufeff"


def env_entries(text: str) -> list[tuple[str | None, str]]:
    """`text` as python-dotenv reads it: (key, exact source text) per entry, so a quoted value spanning lines
    is one entry; comments, blank lines and lines it cannot parse come with no key. Joined, the texts are
    `text` again."""
    entries: list[tuple[str | None, str]] = []
    for binding in parse_stream(io.StringIO(text, newline="")):
        chunk = binding.original.string
        # python-dotenv counts the blank lines before a key as part of its entry; they stay where they are.
        blank = max(chunk[:len(chunk) - len(chunk.lstrip())].rfind(end) for end in ("\n", "\r")) + 1
        if blank:
            entries.append((None, chunk[:blank]))
        entries.append((None if binding.error else binding.key, chunk[blank:]))
    return entries


def merge_env(existing: str, values: Mapping[str, str], owned: Iterable[str], header_line: str
              ) -> tuple[str, list[Change]]:
    """`existing` with `values` written in: each owned key rewritten where it stands, new ones after the
    last owned entry (or, in a file without any, at its end under `header_line`); owned keys that have no
    value now are commented out. Everything else stays byte for byte: other entries (multi-line values
    included), line endings (a CRLF file gets CRLF lines), a byte-order mark, and characters that some
    readers take for line breaks (U+2028, form feed, U+0085) but `.env` readers do not."""
    bom = UTF8_BOM if existing.startswith(UTF8_BOM) else ""
    existing = existing[len(bom):]
    first_break = re.search(r"\r\n|\n|\r", existing)
    newline = first_break.group() if first_break else "\n"

    def ended(chunk: str) -> str:
        return chunk if chunk.endswith(("\n", "\r")) else chunk + newline

    owned = set(owned) | set(values)
    rendered = {name: quote(name, value) + newline for name, value in values.items()}
    header_text = header_line + newline
    written: dict[str, str] = {}  # name -> kind
    out: list[str] = []
    header_at = last_owned_at = None
    for name, chunk in env_entries(existing):
        if name is None:
            for line in _LINE.findall(chunk):  # only real line breaks: a U+2028 inside a comment stays put
                if _header_of_same_app(line, header_line):
                    header_at = len(out)
                    line = header_text
                out.append(line)
            continue
        if name not in owned:
            out.append(chunk)
            continue
        if name in written:
            continue  # a second assignment of an owned key would win over the one just written
        if name in rendered:
            written[name] = "unchanged" if ended(chunk) == rendered[name] else "changed"
            out.append(rendered[name])
        else:
            written[name] = "disabled"
            lines = [line.rstrip("\r\n") for line in _LINE.findall(chunk.strip())]
            out.append(f"# {lines[0]}  (no value on this stack; disabled by make env){newline}"
                       + "".join(f"# {line}{newline}" for line in lines[1:]))
        last_owned_at = len(out) - 1
    out = [ended(chunk) for chunk in out]
    missing = [rendered[name] for name in values if name not in written]
    anchor = last_owned_at if last_owned_at is not None else header_at
    if missing and anchor is None:
        out += ([newline] if out and out[-1].strip() else []) + [header_text] + missing
        header_at = len(out) - len(missing) - 1
    elif missing and anchor is not None:
        out[anchor + 1:anchor + 1] = missing
    if header_at is None:
        first_written = next((i for i, chunk in enumerate(out) if chunk in rendered.values()), None)
        if first_written is not None:
            out.insert(first_written, header_text)
    merged = "".join(out)
    _check_reads_back(merged, values, existing)
    changes = [Change(name, written.get(name, "added")) for name in values]
    changes += [Change(name, "disabled") for name, kind in written.items() if kind == "disabled"]
    return bom + merged, changes


def _check_reads_back(merged: str, values: Mapping[str, str], existing: str) -> None:
    """The merged text, read as the app reads it, gives every value written; otherwise (an unclosed quote in
    the file swallows what follows it) nothing is written and the line to fix is named."""
    read = {binding.key: binding.value for binding in parse_stream(io.StringIO(merged, newline=""))
            if binding.key and not binding.error}
    if all(read.get(name) == value for name, value in values.items()):
        return
    broken = next((binding.original.line for binding in parse_stream(io.StringIO(existing, newline=""))
                   if binding.error), None)
    where = f"line {broken}" if broken else "an entry"
    raise EnvFileError(f"{where} of the file is something python-dotenv cannot read (an unclosed quote?), and it "
                       "would swallow the keys written after it; fix that line and run make env again")


def update_env_file(path: Path, dialect: str, connection: Connection, stack: str, app: str,
                    dry_run: bool = False, force: bool = False) -> tuple[dict[str, str], list[Change]]:
    """`make env`: the app's values merged into `path` (created if missing) and written 0600; with `dry_run`
    nothing is written. Any error is raised before the file is touched. Returns (values, changes).

    Runs into one file are serialised (an advisory lock on the file's directory), so two apps written at
    once both keep their keys. A read-only file is refused unless `force`; anything but a regular file is
    refused always (a device, FIFO or socket would be replaced by, or block on, a file of secrets)."""
    values = render_env(dialect, connection)
    owned = [variable.name for variable in dialect_variables(dialect, connection)]
    target = Path(os.path.realpath(path))  # a symlinked .env is written through
    with _directory_lock(target.parent, shared=dry_run):
        existing = _read_env_text(path, target, force or dry_run)
        text, changes = merge_env(existing, values, owned, header(stack, app, dialect))
        if not dry_run:
            write_private_file(target, text)
    return values, changes


@contextlib.contextmanager
def _directory_lock(directory: Path, shared: bool = False):
    try:
        descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as error:
        raise EnvFileError(f"{directory}: {error.strerror}; the directory of the .env must exist") from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _read_env_text(path: Path, target: Path, replace_read_only: bool) -> str:
    try:
        status = target.stat()
    except FileNotFoundError:
        return ""
    if not stat.S_ISREG(status.st_mode):
        kind = ("a directory" if stat.S_ISDIR(status.st_mode) else "a FIFO" if stat.S_ISFIFO(status.st_mode)
                else "a socket" if stat.S_ISSOCK(status.st_mode) else "a device")
        raise EnvFileError(f"{path} is {kind}, not a .env file; make env writes only regular files. Name a file.")
    if not status.st_mode & stat.S_IWUSR and not replace_read_only:
        raise EnvFileError(f"{path} is read-only (mode {stat.S_IMODE(status.st_mode):04o}); FORCE=1 replaces it")
    try:
        return target.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise EnvFileError(f"{path} is not UTF-8 text (byte {error.start}); make env does not rewrite it") from None


def write_private_file(path: Path, text: str) -> None:
    """Replace `path` with `text`, readable by its owner only (0600) from the first byte. The temporary file is
    named `<name>.<random>.env`, which `.env*`, `.env.*` and `*.env` in a .gitignore all cover."""
    replace_file(path, text, 0o600, suffix=".env")


def replace_file(path: Path, text: str, mode: int, suffix: str = ".tmp") -> None:
    """Replace `path` with `text`, whole or not at all: a temporary file in the same directory (created 0600),
    synced, given `mode`, and renamed over the old one, so a failure never leaves half a file."""
    path = Path(os.path.realpath(path))
    descriptor, temporary = tempfile.mkstemp(prefix=f"{path.name}.", suffix=suffix, dir=path.parent)  # 0600
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
