""".env dialects: the neutral storage connection in each application's own variable names. Pure: no files.

`DIALECTS` is the table: per dialect, the variables in the order they are written and where each value
comes from. A variable whose value is missing for a connection (no endpoint on AWS, no CDN) is left out,
never written empty: an empty endpoint breaks boto3. Writing them into a `.env` file is the command's
work (`cli/env_file.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

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
        return [Variable(self.pattern.format(AREA=_env_name_part(area)), self._value_of(prefix))
                for area, prefix in connection.get("area_prefixes", {}).items()]

    def _value_of(self, prefix: str) -> Callable[[Connection], Any]:
        return lambda _: self.value(prefix)


def _env_name_part(area: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", area.upper())


@dataclass(frozen=True)
class _Field:
    """A connection field written as it is; `read_env` reads it back."""
    key: str

    def __call__(self, connection: Connection) -> Any:
        return connection.get(self.key)


@dataclass(frozen=True)
class _Flag:
    """A boolean field in the spelling the app's own docs use (Django settings read `True`)."""
    key: str
    true: str = "true"
    false: str = "false"

    def __call__(self, connection: Connection) -> str:
        return self.true if connection.get(self.key) else self.false


def _provider(connection: Connection) -> str:
    """`minio` on MinIO, `s3` on AWS: the provider switch the Django and Chat seeds read."""
    return "minio" if connection.get("backend") == "minio" else "s3"


def _endpoint_host(connection: Connection) -> str:
    """`host:port` without scheme, as minio-py takes it; AWS's regional S3 endpoint on AWS."""
    endpoint = connection.get("endpoint")
    if endpoint:
        return re.sub(r"^[a-z]+://", "", endpoint).rstrip("/")
    return f"s3.{connection['region']}.amazonaws.com"


def _shortest_presign_seconds(connection: Connection) -> int | None:
    """django-storages has one expiry for every signed URL: the strictest of the private areas'."""
    seconds = (connection.get("presign_seconds") or {}).values()
    return min(seconds) if seconds else None


def _bucket_location(prefix: str) -> str:
    """django-storages' `location`: the prefix without its trailing slash."""
    return prefix.rstrip("/")


ACCESS_KEY = _Field("access_key_id")
SECRET_KEY = _Field("secret_access_key")
BUCKET = _Field("bucket")
REGION = _Field("region")
WEB_IDENTITY_ROLE = _Field("web_identity_role_arn")
"""AWS_ROLE_ARN: where a platform hands the app an OIDC token (AWS_WEB_IDENTITY_TOKEN_FILE), the SDK assumes it."""
ENDPOINT_URL = _Field("endpoint")
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
        Variable("AWS_S3_USE_SSL", _Flag("use_tls", "True", "False")),
        Variable("AWS_S3_CUSTOM_DOMAIN", _Field("cdn_domain")),
        Variable("AWS_S3_ADDRESSING_STYLE", lambda c: "path" if c.get("path_style") else None),
        Variable("AWS_QUERYSTRING_EXPIRE", _shortest_presign_seconds),
        # botocore may presign with SigV2 (against a custom endpoint it does), which S3 buckets made since
        # 2020 refuse: django-storages is told to sign with SigV4.
        Variable("AWS_S3_SIGNATURE_VERSION", lambda _: "s3v4"),
        Variable("AWS_ROLE_ARN", WEB_IDENTITY_ROLE),
        PerArea("AWS_{AREA}_LOCATION", _bucket_location),
    ),
    # VISTA: minio-py's Minio(S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, secure=S3_USE_SSL, region=S3_REGION).
    "s3": (
        Variable("S3_ENDPOINT", _endpoint_host),
        Variable("S3_ACCESS_KEY", ACCESS_KEY),
        Variable("S3_SECRET_KEY", SECRET_KEY, secret=True),
        Variable("S3_BUCKET", BUCKET),
        Variable("S3_USE_SSL", _Flag("use_tls")),
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
        Variable("AWS_ROLE_ARN", WEB_IDENTITY_ROLE),
    ),
    # Laravel: the `s3` disk of config/filesystems.php.
    "laravel": (
        Variable("FILESYSTEM_DISK", lambda _: "s3"),
        Variable("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        Variable("AWS_SECRET_ACCESS_KEY", SECRET_KEY, secret=True),
        Variable("AWS_DEFAULT_REGION", REGION),
        Variable("AWS_BUCKET", BUCKET),
        Variable("AWS_URL", _Field("public_base_url")),
        Variable("AWS_ENDPOINT", ENDPOINT_URL),
        Variable("AWS_USE_PATH_STYLE_ENDPOINT", _Flag("path_style")),
        Variable("AWS_ROLE_ARN", WEB_IDENTITY_ROLE),
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
        Variable("AWS_ROLE_ARN", WEB_IDENTITY_ROLE),
    ),
}


@dataclass(frozen=True)
class PresignSigning:
    """How the client that reads a dialect signs presigned URLs when configured from the `.env` alone."""
    client: str
    signs_with: str
    """`sigv4`, or `sigv2` where the client defaults to it and reads no setting from the environment."""
    fix: str | None = None
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


def presign_note(dialect: str, connection: Connection) -> str | None:
    """What the app must change in code for presigned URLs AWS accepts, when its `.env` cannot say it."""
    signing = PRESIGN_SIGNING.get(dialect)
    if connection.get("backend") != "aws" or signing is None or signing.fix is None:
        return None
    return (f"{signing.client} signs presigned URLs with SigV2 unless told otherwise, which AWS refuses for "
            f"SSE-KMS objects and buckets created since June 2020, and no {dialect} variable can change that. "
            f"Build the client with {signing.fix}.")


class DialectError(ValueError):
    """A dialect that does not exist; the message names the ones that do."""


def dialect_variables(dialect: str, connection: Connection) -> list[Variable]:
    """The dialect's variables for this connection (per-area ones expanded), in writing order."""
    if dialect not in DIALECTS:
        raise DialectError(f"unknown dialect {dialect!r}; use one of: {', '.join(DIALECTS)}")
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


DISTINCTIVE = {
    "django": "AWS_STORAGE_BUCKET_NAME",
    "s3": "S3_BUCKET",
    "object-storage": "OBJECT_STORAGE_BUCKET",
    "laravel": "AWS_BUCKET",
    "aws-sdk": "AWS_S3_BUCKET",
}
"""The variable only that dialect writes: how a `.env` tells which dialect it is in."""


def detect_dialect(values: Mapping[str, str]) -> str:
    found = [dialect for dialect, name in DISTINCTIVE.items() if values.get(name)]
    if len(found) != 1:
        what = f"variables of several dialects ({', '.join(found)})" if found else "no bucket variable of any dialect"
        raise DialectError(f"the .env has {what}; name its dialect (DIALECT=<{'|'.join(DIALECTS)}>)")
    return found[0]


def read_env(dialect: str, values: Mapping[str, str]) -> dict[str, Any]:
    """The neutral connection a `.env` in `dialect` describes, as far as it does: the inverse of `render_env`.
    Areas are known only where the dialect names them (django's per-area locations)."""
    if dialect not in DIALECTS:
        raise DialectError(f"unknown dialect {dialect!r}; use one of: {', '.join(DIALECTS)}")
    connection: dict[str, Any] = {}
    for entry in DIALECTS[dialect]:
        if isinstance(entry, PerArea):
            head, _, tail = entry.pattern.partition("{AREA}")
            connection["area_prefixes"] = {
                name[len(head):len(name) - len(tail)].lower(): (value.rstrip("/") + "/" if value else "")
                for name, value in values.items()
                if name.startswith(head) and name.endswith(tail) and len(name) > len(head) + len(tail)}
            continue
        raw = values.get(entry.name)
        if raw is None:
            continue
        if isinstance(entry.value, _Field):
            connection[entry.value.key] = raw
        elif isinstance(entry.value, _Flag):
            connection[entry.value.key] = raw == entry.value.true
    if dialect == "s3":  # minio-py's host:port: AWS's own endpoint, or a server of its own
        host = values.get("S3_ENDPOINT", "")
        if host and not re.fullmatch(r"s3[.-][a-z0-9-]+\.amazonaws\.com", host):
            connection["endpoint"] = f"{'https' if connection.get('use_tls', True) else 'http'}://{host}"
    if dialect == "django":
        connection["path_style"] = values.get("AWS_S3_ADDRESSING_STYLE") == "path"
        if values.get("AWS_S3_CUSTOM_DOMAIN"):
            connection["public_base_url"] = f"https://{values['AWS_S3_CUSTOM_DOMAIN']}"
    if connection.get("endpoint") and "use_tls" not in connection:
        connection["use_tls"] = connection["endpoint"].startswith("https://")
    provider = values.get("STORAGE_BACKEND") or values.get("OBJECT_STORAGE_PROVIDER")
    connection["backend"] = provider if provider in ("minio", "aws") else (
        "aws" if provider == "s3" or not connection.get("endpoint") else "minio")
    connection.setdefault("path_style", bool(connection.get("endpoint")))  # app-storage: path style off AWS
    return connection


def secret_names(dialect: str, connection: Connection) -> set[str]:
    return {v.name for v in dialect_variables(dialect, connection) if v.secret}
