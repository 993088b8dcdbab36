""".env dialects: the neutral storage connection in each application's own variable names, and the
`.env` file that `make env` merges them into.

`DIALECTS` is the table: per dialect, the variables in the order they are written and where each value
comes from. A variable whose value is missing for a connection (no endpoint on AWS, no CDN) is left out,
never written empty: an empty endpoint breaks boto3.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional

from dotenv.parser import parse_stream  # the python-dotenv package (this module is components.dotenv)

Connection = Mapping[str, Any]
"""A StorageConnection as a stack output value (`StorageConnection.as_output()`, resolved)."""


@dataclass(frozen=True)
class Variable:
    name: str
    value: Callable[[Connection], Any]
    secret: bool = False


@dataclass(frozen=True)
class PerArea:
    """One variable per area of the app, e.g. `AWS_{AREA}_LOCATION` → `AWS_MEDIA_LOCATION`."""
    pattern: str
    value: Callable[[str], Any]
    """From the area's prefix."""

    def variables(self, connection: Connection) -> list[Variable]:
        return [Variable(self.pattern.format(AREA=_env_name_part(area)), lambda _, p=prefix: self.value(p))
                for area, prefix in connection.get("area_prefixes", {}).items()]


def _env_name_part(area: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", area.upper())


def _field(key: str) -> Callable[[Connection], Any]:
    return lambda connection: connection.get(key)


def _flag(key: str, true: str = "true", false: str = "false") -> Callable[[Connection], str]:
    """A boolean field in the spelling the app's own docs use (Django settings read `True`)."""
    return lambda connection: true if connection.get(key) else false


def _provider(connection: Connection) -> str:
    """`minio` on MinIO, `s3` on AWS: the provider switch the Django and Chat seeds read."""
    return "minio" if connection.get("backend") == "minio" else "s3"


def _endpoint_host(connection: Connection) -> str:
    """`host:port` without scheme, as minio-py takes it; AWS's regional S3 endpoint on AWS."""
    endpoint = connection.get("endpoint")
    if endpoint:
        return re.sub(r"^[a-z]+://", "", endpoint).rstrip("/")
    return f"s3.{connection['region']}.amazonaws.com"


def _shortest_presign_seconds(connection: Connection) -> Optional[int]:
    """django-storages has one expiry for every signed URL: the strictest of the private areas'."""
    seconds = (connection.get("presign_seconds") or {}).values()
    return min(seconds) if seconds else None


def _bucket_location(prefix: str) -> str:
    """django-storages' `location`: the prefix without its trailing slash."""
    return prefix.rstrip("/")


ACCESS_KEY = _field("access_key_id")
SECRET_KEY = _field("secret_access_key")
BUCKET = _field("bucket")
REGION = _field("region")
ENDPOINT_URL = _field("endpoint")
"""With scheme; None on AWS, where every SDK finds the regional endpoint itself."""

DIALECTS: dict[str, tuple[Variable | PerArea, ...]] = {
    # EventHorizon: django-storages' S3 backend; the names are django-storages' own settings.
    "django": (
        Variable("STORAGE_BACKEND", _provider),
        Variable("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        Variable("AWS_SECRET_ACCESS_KEY", SECRET_KEY, secret=True),
        Variable("AWS_STORAGE_BUCKET_NAME", BUCKET),
        Variable("AWS_S3_REGION_NAME", REGION),
        Variable("AWS_S3_ENDPOINT_URL", ENDPOINT_URL),
        Variable("AWS_S3_USE_SSL", _flag("use_tls", "True", "False")),
        Variable("AWS_S3_CUSTOM_DOMAIN", _field("cdn_domain")),
        Variable("AWS_S3_ADDRESSING_STYLE", lambda c: "path" if c.get("path_style") else None),
        Variable("AWS_QUERYSTRING_EXPIRE", _shortest_presign_seconds),
        # botocore may presign with SigV2 (against a custom endpoint it does), which S3 buckets made since
        # 2020 refuse: django-storages is told to sign with SigV4.
        Variable("AWS_S3_SIGNATURE_VERSION", lambda _: "s3v4"),
        PerArea("AWS_{AREA}_LOCATION", _bucket_location),
    ),
    # VISTA: minio-py's Minio(S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, secure=S3_USE_SSL, region=S3_REGION).
    "s3": (
        Variable("S3_ENDPOINT", _endpoint_host),
        Variable("S3_ACCESS_KEY", ACCESS_KEY),
        Variable("S3_SECRET_KEY", SECRET_KEY, secret=True),
        Variable("S3_BUCKET", BUCKET),
        Variable("S3_USE_SSL", _flag("use_tls")),
        Variable("S3_REGION", REGION),
    ),
    # Chat system: boto3 StorageService; it passes the region only when there is no endpoint.
    "object-storage": (
        Variable("OBJECT_STORAGE_ENABLED", lambda _: "true"),
        Variable("OBJECT_STORAGE_PROVIDER", _provider),
        Variable("OBJECT_STORAGE_BUCKET", BUCKET),
        Variable("OBJECT_STORAGE_ENDPOINT", ENDPOINT_URL),
        Variable("OBJECT_STORAGE_ACCESS_KEY", ACCESS_KEY),
        Variable("OBJECT_STORAGE_SECRET_KEY", SECRET_KEY, secret=True),
        Variable("OBJECT_STORAGE_REGION", REGION),
    ),
    # Laravel: the `s3` disk of config/filesystems.php.
    "laravel": (
        Variable("FILESYSTEM_DISK", lambda _: "s3"),
        Variable("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        Variable("AWS_SECRET_ACCESS_KEY", SECRET_KEY, secret=True),
        Variable("AWS_DEFAULT_REGION", REGION),
        Variable("AWS_BUCKET", BUCKET),
        Variable("AWS_URL", _field("public_base_url")),
        Variable("AWS_ENDPOINT", ENDPOINT_URL),
        Variable("AWS_USE_PATH_STYLE_ENDPOINT", _flag("path_style")),
    ),
    # Any AWS SDK or CLI from the environment alone; also the Dynamic storage manager's admin fields.
    # botocore reads AWS_DEFAULT_REGION, most other SDKs AWS_REGION: both are written.
    "aws-sdk": (
        Variable("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        Variable("AWS_SECRET_ACCESS_KEY", SECRET_KEY, secret=True),
        Variable("AWS_DEFAULT_REGION", REGION),
        Variable("AWS_REGION", REGION),
        Variable("AWS_ENDPOINT_URL_S3", ENDPOINT_URL),
        Variable("AWS_S3_BUCKET", BUCKET),
    ),
}


@dataclass(frozen=True)
class PresignSigning:
    """How the client that reads a dialect signs presigned URLs when configured from the `.env` alone."""
    client: str
    signs_with: str
    """`sigv4`, or `sigv2` where the client defaults to it and reads no setting from the environment."""
    fix: Optional[str] = None
    """The one line that makes the client sign with SigV4, where no `.env` variable can."""


# botocore presigns S3 URLs with SigV2 in every region that still accepts it unless the client is configured
# otherwise (botocore client.py `_default_s3_presign_to_sigv2`; boto/boto3#2680, boto/botocore#3791), and
# reads that configuration from code or ~/.aws/config only, never from the environment. AWS refuses SigV2
# for SSE-KMS objects and for buckets created since June 2020, so those links break in prod.
BOTO3_SIGV4_FIX = 'boto3.client("s3", ..., config=botocore.config.Config(signature_version="s3v4"))'
PRESIGN_SIGNING: dict[str, PresignSigning] = {
    "django": PresignSigning("django-storages (boto3)", "sigv4"),  # the .env sets AWS_S3_SIGNATURE_VERSION
    "s3": PresignSigning("minio-py", "sigv4"),  # minio-py signs only with SigV4
    "object-storage": PresignSigning("boto3", "sigv2", BOTO3_SIGV4_FIX),
    "aws-sdk": PresignSigning("boto3", "sigv2", BOTO3_SIGV4_FIX + ", or once per machine: "
                              "`aws configure set default.s3.signature_version s3v4`"),
    "laravel": PresignSigning("AWS SDK for PHP v3", "sigv4"),  # its S3 client signs presigned URLs with SigV4
}


def presign_note(dialect: str, connection: Connection) -> Optional[str]:
    """What the app must change in code for presigned URLs AWS accepts, when its `.env` cannot say it."""
    signing = PRESIGN_SIGNING.get(dialect)
    if connection.get("backend") != "aws" or signing is None or signing.fix is None:
        return None
    return (f"{signing.client} signs presigned URLs with SigV2 unless told otherwise, which AWS refuses for "
            f"SSE-KMS objects and buckets created since June 2020, and no {dialect} variable can change that. "
            f"Build the client with {signing.fix}.")


class DotenvError(ValueError):
    """A dialect, connection or value that cannot become a `.env`; the message says what to do."""


def dialect_variables(dialect: str, connection: Connection) -> list[Variable]:
    """The dialect's variables for this connection (per-area ones expanded), in writing order."""
    if dialect not in DIALECTS:
        raise DotenvError(f"unknown dialect {dialect!r}; use one of: {', '.join(DIALECTS)}")
    variables: list[Variable] = []
    for entry in DIALECTS[dialect]:
        variables += entry.variables(connection) if isinstance(entry, PerArea) else [entry]
    return variables


def render_env(dialect: str, connection: Connection) -> dict[str, str]:
    """The `.env` values of `connection` in `dialect`: name → text, without the keys that have no value."""
    values = {}
    for variable in dialect_variables(dialect, connection):
        value = variable.value(connection)
        if value is not None and value != "":
            values[variable.name] = str(value)
    return values


def secret_names(dialect: str, connection: Connection) -> set[str]:
    return {v.name for v in dialect_variables(dialect, connection) if v.secret}


# --- the .env file -------------------------------------------------------------------------------

HEADER_MARK = "# app-storage:"
# What no single quoting reads back the same in python-dotenv (which unescapes \\ and \' and expands
# ${NAME} even between single quotes), phpdotenv and sh.
_UNQUOTABLE = re.compile(r"['\\\n\r\x00]|\$\{")


def quote(name: str, value: str) -> str:
    """`value` single-quoted: literal for python-dotenv, Laravel and `set -a; . ./.env` alike."""
    bad = _UNQUOTABLE.search(value)
    if bad:
        raise DotenvError(
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


def _entries(text: str) -> list[tuple[Optional[str], str]]:
    """`text` as python-dotenv reads it: (key, exact source text) per entry, so a quoted value spanning lines
    is one entry; comments, blank lines and lines it cannot parse come with no key. Joined, the texts are
    `text` again."""
    entries: list[tuple[Optional[str], str]] = []
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
    for name, chunk in _entries(existing):
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
    elif missing:
        out[anchor + 1:anchor + 1] = missing
    if header_at is None:
        first_written = next((i for i, chunk in enumerate(out) if chunk in rendered.values()), None)
        if first_written is not None:
            out.insert(first_written, header_text)
    changes = [Change(name, written.get(name, "added")) for name in values]
    changes += [Change(name, "disabled") for name, kind in written.items() if kind == "disabled"]
    return bom + "".join(out), changes


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
        raise DotenvError(f"{directory}: {error.strerror}; the directory of the .env must exist") from None
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
        raise DotenvError(f"{path} is {kind}, not a .env file; make env writes only regular files. Name a file.")
    if not status.st_mode & stat.S_IWUSR and not replace_read_only:
        raise DotenvError(f"{path} is read-only (mode {stat.S_IMODE(status.st_mode):04o}); FORCE=1 replaces it")
    try:
        return target.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise DotenvError(f"{path} is not UTF-8 text (byte {error.start}); make env does not rewrite it") from None


def write_private_file(path: Path, text: str) -> None:
    """Replace `path` with `text`, readable by its owner only (0600) from the first byte: a temporary file
    in the same directory, renamed over the old one, so a failure never leaves half a file. The temporary
    file is named `<name>.<random>.env`, which `.env*`, `.env.*` and `*.env` in a .gitignore all cover."""
    path = Path(os.path.realpath(path))
    descriptor, temporary = tempfile.mkstemp(prefix=f"{path.name}.", suffix=".env", dir=path.parent)  # 0600
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
