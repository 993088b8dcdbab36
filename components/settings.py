"""The settings gate: stack config in, frozen typed settings out.

Every `app-storage:*` key is read and checked here, before any resource is declared. All problems are
collected and reported together; each names the config key path, the bad value and the fix.
Defaults live in the `*_DEFAULTS` tables below; `Pulumi.yaml` documents the same values (a test keeps
them equal).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pulumi import RunError

from components import naming
from components.dialects import DIALECTS
from components.messages import one_line

NAMESPACE = "app-storage"

BACKENDS = ("aws", "minio")
ACCESS_LEVELS = ("public", "private")
ENCRYPTION_KINDS = ("aes256", "kms")
CORS_METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")
# Colder classes rank higher: a lifecycle may only move objects to a colder class (S3's waterfall).
STORAGE_CLASS_RANK = {
    "STANDARD_IA": 1,
    "INTELLIGENT_TIERING": 1,
    "ONEZONE_IA": 2,
    "GLACIER_IR": 3,
    "GLACIER": 4,
    "DEEP_ARCHIVE": 5,
}
INFREQUENT_ACCESS_CLASSES = ("STANDARD_IA", "ONEZONE_IA")
INFREQUENT_ACCESS_MIN_DAYS = 30
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4 presigned URLs live at most 7 days.

# Stack-level keys: name -> default. `bucketPrefix` defaults to `<project>-<stack>` (computed).
STACK_DEFAULTS: dict[str, Any] = {
    "backend": "aws",
    "encryption": "aes256",
    "kmsKeyArn": "",
    "versioning": True,
    "noncurrentVersionExpirationDays": 90,
    "abortIncompleteMultipartUploadDays": 7,
    "protectData": True,
    "forceDestroy": False,
    "bucketPrefix": "",  # empty: `<project>-<stack>`, derived in the gate
    "minioKmsKeyId": "",
    "replication": None,
    "cdn": None,
    "publicWithoutCdn": False,
    "tags": {},
    "apps": None,
}
REPLICATION_DEFAULTS: dict[str, Any] = {
    "region": None,
    "storageClass": "STANDARD_IA",
    "replicationTimeControl": False,
}
REPLICA_STORAGE_CLASSES = ("STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER",
                           "DEEP_ARCHIVE")
CDN_DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "priceClass": "PriceClass_100",
    "domains": {},
    "certificateArn": None,
    "hostedZoneId": None,
    "logBucket": None,
    "webAclArn": None,
}
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
# CloudFront takes certificates and web ACLs only from us-east-1.
CLOUDFRONT_REGION = "us-east-1"
# The MinIO provider's own config (namespace `minio`), read for the endpoint apps connect to.
MINIO_PROVIDER_DEFAULTS: dict[str, Any] = {
    "minioServer": None,
    "minioSsl": False,
    "minioRegion": "us-east-1",
}
# Provider credentials come from the environment (MINIO_USER / MINIO_PASSWORD), never from the stack file.
MINIO_CREDENTIAL_KEYS = ("minioUser", "minioPassword", "minioAccessKey", "minioSecretKey", "minioSessionToken")
# Every setting of the pulumi-minio 0.17 provider (pulumi_minio.config) that is not a credential.
MINIO_PROVIDER_KEYS = (*MINIO_PROVIDER_DEFAULTS, "minioInsecure", "minioCacertFile", "minioCertFile", "minioKeyFile",
                       "minioApiVersion")
# The config namespaces this program or its providers read; a near miss of one is a typo that would be ignored.
KNOWN_NAMESPACES = ("app-storage", "aws", "minio", "pulumi")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "host.docker.internal")
APP_DEFAULTS: dict[str, Any] = {
    "dialect": "aws-sdk",
    "bucketName": None,
    "areas": None,
    "cors": [],
    "lifecycle": [],
}
# An app that declares no areas gets one private area spanning the whole bucket.
DEFAULT_AREAS = {"files": {"access": "private", "prefix": ""}}
AREA_DEFAULTS: dict[str, Any] = {
    "access": "private",
    "prefix": None,  # `<area>/`
    "cacheControl": None,
    "presignSeconds": 3600,
}
CORS_DEFAULTS: dict[str, Any] = {
    "origins": None,
    "methods": None,
    "headers": ["*"],
    "exposeHeaders": ["ETag"],
    "maxAgeSeconds": 3000,
    "allowAnyOrigin": False,
}
LIFECYCLE_DEFAULTS: dict[str, Any] = {
    "area": None,
    "prefix": None,
    "transitions": [],
    "expireDays": None,
}
TRANSITION_DEFAULTS: dict[str, Any] = {"days": None, "storageClass": None}

_ORIGIN = re.compile(r"^https?://(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$")
_ACM_CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[A-Za-z0-9-]+$")
_WAF_WEB_ACL_ARN = re.compile(r"^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global/webacl/[A-Za-z0-9_-]+/[A-Za-z0-9-]+$")
_HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_HOST_PORT = re.compile(r"^(?P<host>[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(:(?P<port>\d{1,5}))?$")
# A header value CloudFront can send: visible ASCII and inner spaces, at most 1,783 characters (CloudFront
# quotas, "maximum length of a custom header value").
_HEADER_VALUE = re.compile(r"^[\x21-\x7e]([\x20-\x7e]{0,1781}[\x21-\x7e])?$")


# ---------------------------------------------------------------------------------------------
# The typed, frozen result.


@dataclass(frozen=True)
class Area:
    name: str
    access: str
    prefix: str
    cache_control: str | None
    presign_seconds: int

    @property
    def is_public(self) -> bool:
        return self.access == "public"


@dataclass(frozen=True)
class Transition:
    days: int
    storage_class: str


@dataclass(frozen=True)
class LifecycleRule:
    prefix: str
    transitions: tuple[Transition, ...]
    expire_days: int | None


@dataclass(frozen=True)
class CorsRule:
    origins: tuple[str, ...]
    methods: tuple[str, ...]
    headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age_seconds: int


@dataclass(frozen=True)
class AppSettings:
    name: str
    dialect: str
    bucket_name: str
    areas: tuple[Area, ...]
    cors: tuple[CorsRule, ...]
    lifecycle: tuple[LifecycleRule, ...]

    @property
    def area_prefixes(self) -> dict[str, str]:
        return {area.name: area.prefix for area in self.areas}


@dataclass(frozen=True)
class MinioSettings:
    server: str
    """`host:port`, as the MinIO provider takes it."""
    use_tls: bool
    kms_key_id: str | None
    """A key of MinIO's configured KMS (KES); buckets are encrypted with it when set."""

    @property
    def url(self) -> str:
        return f"{'https' if self.use_tls else 'http'}://{self.server}"


@dataclass(frozen=True)
class ReplicationSettings:
    region: str
    storage_class: str
    replication_time_control: bool


@dataclass(frozen=True)
class CdnSettings:
    price_class: str
    domains: Mapping[str, str]
    """App name -> custom domain of that app's distribution."""
    certificate_arn: str | None
    hosted_zone_id: str | None
    log_bucket: str | None
    web_acl_arn: str | None


@dataclass(frozen=True)
class StackSettings:
    stack: str
    backend: str
    region: str
    encryption: str
    kms_key_arn: str | None
    versioning: bool
    noncurrent_version_expiration_days: int
    abort_incomplete_multipart_upload_days: int
    protect_data: bool
    force_destroy: bool
    bucket_prefix: str
    tags: Mapping[str, str]
    apps: tuple[AppSettings, ...]
    minio: MinioSettings | None = None
    """Set exactly when the backend is minio."""
    replication: ReplicationSettings | None = None
    cdn: CdnSettings | None = None
    """Set when the CDN is enabled (aws only)."""
    public_without_cdn: bool = False
    warnings: tuple[str, ...] = field(default=())


class SettingsError(RunError):
    """The stack config has problems; `problems` holds one clear message each.

    A RunError, so `pulumi up` prints the messages without a traceback.
    """

    def __init__(self, problems: list[str]):
        self.problems = [one_line(problem) for problem in problems]
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(
            f"app-storage: the stack config has {count}; nothing was declared:\n"
            + "\n".join(f"  - {p}" for p in self.problems)
        )


# ---------------------------------------------------------------------------------------------
# Reading helpers: each records a problem and returns a usable fallback, so parsing goes on and
# every problem is found in one run.


SHOWN_VALUE_MAX = 120
HIDDEN = object()
"""A value never echoed (an unknown key may hold a password)."""


def _show(value: Any) -> str:
    """The value as the message shows it: short, one line, and safe for any size of number."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"a number of {len(format(value, 'x'))} hex digits"
    try:
        text = repr(value) if isinstance(value, str) else json.dumps(value, default=repr)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= SHOWN_VALUE_MAX else text[:SHOWN_VALUE_MAX] + "…"


class _Problems:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, key: str, value: Any, problem: str, fix: str) -> None:
        shown = "" if value is HIDDEN else f" (got {_show(value)})"
        self.messages.append(one_line(f"{key}: {problem}{shown}. {fix}"))


def _key(path: str, child: str | int) -> str:
    if isinstance(child, int):
        return f"{path}[{child}]"
    return f"{path}.{child}" if not path.endswith(":") else f"{path}{child}"


def _check_known(p: _Problems, path: str, data: Mapping[str, Any], known: Mapping[str, Any]) -> None:
    for name in data:
        if name in known:
            continue
        guess = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.6)
        fix = f"Did you mean '{guess[0]}'?" if guess else f"Known keys here: {', '.join(known)}."
        p.add(_key(path, name), HIDDEN, "is not a known setting (its value is not shown)", fix)


def _value(data: Mapping, name: str, defaults: Mapping) -> Any:
    """The key's value; absent or null (JSON's "unset") gives the default."""
    value = data.get(name)
    return defaults[name] if value is None else value


def _read_str(p: _Problems, path: str, data: Mapping, name: str, defaults: Mapping,
              choices: tuple[str, ...] = ()) -> Any:
    value = _value(data, name, defaults)
    if value is None:
        return None
    if not isinstance(value, str):
        p.add(_key(path, name), value, "must be a string", f"Quote the value{_choices(choices)}.")
        return defaults[name]
    if choices and value not in choices:
        guess = difflib.get_close_matches(value, choices, n=1)
        hint = f" Did you mean '{guess[0]}'?" if guess else ""
        p.add(_key(path, name), value, f"is not one of {', '.join(choices)}", f"Use one of them.{hint}")
        return defaults[name]
    return value


def _read_matching(p: _Problems, path: str, data: Mapping, name: str, defaults: Mapping, pattern: re.Pattern,
                   problem: str, fix: str) -> str | None:
    """An optional string that must match `pattern`; a mismatch is recorded and the value kept (for context)."""
    value = _read_str(p, path, data, name, defaults)
    if value and not pattern.match(value):
        p.add(_key(path, name), value, problem, fix)
    return value


def _choices(choices: tuple[str, ...]) -> str:
    return f" and use one of {', '.join(choices)}" if choices else ""


def _read_bool(p: _Problems, path: str, data: Mapping, name: str, defaults: Mapping) -> bool:
    value = _value(data, name, defaults)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    p.add(_key(path, name), value, "must be true or false", "Write true or false without quotes.")
    return defaults[name]


def _read_int(p: _Problems, path: str, data: Mapping, name: str, defaults: Mapping,
              low: int, high: int, unit: str) -> int | None:
    value = _value(data, name, defaults)
    if value is None:
        return None
    number = value
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,12}", value.strip()):  # ASCII digits: not '²'
        number = int(value)
    if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
        p.add(_key(path, name), value, f"must be a whole number of {unit} from {low} to {high}",
              f"Set a number of {unit} in that range.")
        return defaults[name]
    return number


def _read_count(p: _Problems, path: str, data: Mapping, name: str, defaults: Mapping,
                low: int, high: int, unit: str) -> int:
    """`_read_int` of a key whose default is a number: never None."""
    value = _read_int(p, path, data, name, defaults, low, high, unit)
    return int(defaults[name]) if value is None else value


def _read_map(p: _Problems, path: str, data: Mapping, name: str, defaults: Mapping) -> dict:
    value = _value(data, name, defaults)
    if value is None:
        return {}
    if not isinstance(value, dict):
        p.add(_key(path, name), value, "must be a map of keys to values", "Write it as `key: value` lines.")
        return {}
    return value


def _read_list(p: _Problems, path: str, data: Mapping, name: str, defaults: Mapping) -> list:
    value = _value(data, name, defaults)
    if value is None:
        return []
    if not isinstance(value, list):
        p.add(_key(path, name), value, "must be a list", "Write it as a YAML list (`- item` or `[a, b]`).")
        return []
    return value


def _read_str_list(p: _Problems, path: str, data: Mapping, name: str, defaults: Mapping) -> list[str]:
    items = _read_list(p, path, data, name, defaults)
    good = []
    for index, item in enumerate(items):
        if isinstance(item, str) and item:
            good.append(item)
        else:
            p.add(_key(_key(path, name), index), item, "must be a non-empty string", "Quote the value.")
    return good


def _read_objects(p: _Problems, path: str, items: list, what: str,
                  read_one: Callable[[str, dict], Any]) -> list:
    parsed = []
    for index, item in enumerate(items):
        item_path = _key(path, index)
        if not isinstance(item, dict):
            p.add(item_path, item, f"must be a {what} object", f"Write the {what} as `key: value` pairs.")
            continue
        result = read_one(item_path, item)
        if result is not None:
            parsed.append(result)
    return parsed


# ---------------------------------------------------------------------------------------------
# The parts of the config.


def _read_area(p: _Problems, path: str, name: str, data: Any) -> Area | None:
    if not naming.is_area_name(name):
        p.add(path, name, "is not a valid area name",
              "Use lowercase letters, digits, '-' or '_', starting and ending with a letter or digit.")
        return None
    if not isinstance(data, dict):
        p.add(path, data, "must be an area object", "Write e.g. `{access: private}`.")
        return None
    _check_known(p, path, data, AREA_DEFAULTS)
    access = _read_str(p, path, data, "access", AREA_DEFAULTS, ACCESS_LEVELS)
    prefix = _read_str(p, path, data, "prefix", AREA_DEFAULTS)
    if prefix is None:
        prefix = f"{name}/"
    elif prefix and (not prefix.endswith("/") or prefix.startswith("/") or "*" in prefix):
        p.add(_key(path, "prefix"), prefix, "must end with '/', not start with '/', and hold no '*'",
              f"Write it like '{name}/', or '' for the whole bucket.")
    if access == "public" and prefix == "":
        p.add(_key(path, "prefix"), prefix, "makes a public area of the whole bucket, so nothing in it stays private",
              f"Give the public area its own prefix, like '{name}/'.")
    return Area(
        name=name,
        access=access,
        prefix=prefix,
        cache_control=_read_matching(p, path, data, "cacheControl", AREA_DEFAULTS, _HEADER_VALUE,
                                     "is not an HTTP header value CloudFront can send",
                                     "Write it on one line in plain ASCII, like 'public, max-age=86400'."),
        presign_seconds=_read_count(p, path, data, "presignSeconds", AREA_DEFAULTS,
                                  1, MAX_PRESIGN_SECONDS, "seconds"),
    )


def _check_area_overlap(p: _Problems, path: str, areas: list[Area]) -> None:
    for index, first in enumerate(areas):
        for second in areas[index + 1:]:
            if first.prefix.startswith(second.prefix) or second.prefix.startswith(first.prefix):
                p.add(_key(_key(path, second.name), "prefix"), second.prefix,
                      f"overlaps area '{first.name}' (prefix {first.prefix!r}), so access to one leaks to the other",
                      "Give each area its own prefix, none inside another.")


def _read_transition(p: _Problems, path: str, data: dict) -> Transition | None:
    _check_known(p, path, data, TRANSITION_DEFAULTS)
    if data.get("days") is None or data.get("storageClass") is None:
        p.add(path, data, "needs both days and storageClass", "Write e.g. `{days: 90, storageClass: STANDARD_IA}`.")
        return None
    before = len(p.messages)
    days = _read_int(p, path, data, "days", TRANSITION_DEFAULTS, 0, 36500, "days")
    storage_class = _read_str(p, path, data, "storageClass", TRANSITION_DEFAULTS, tuple(STORAGE_CLASS_RANK))
    if len(p.messages) > before or days is None or storage_class is None:
        return None
    if storage_class in INFREQUENT_ACCESS_CLASSES and days < INFREQUENT_ACCESS_MIN_DAYS:
        p.add(_key(path, "days"), days,
              f"is too early: S3 moves objects to {storage_class} only after {INFREQUENT_ACCESS_MIN_DAYS} days",
              f"Use {INFREQUENT_ACCESS_MIN_DAYS} or more days.")
    return Transition(days=days, storage_class=storage_class)


def _read_lifecycle_rule(p: _Problems, path: str, data: dict, areas: list[Area]) -> LifecycleRule | None:
    _check_known(p, path, data, LIFECYCLE_DEFAULTS)
    area_name = _read_str(p, path, data, "area", LIFECYCLE_DEFAULTS)
    prefix = _read_str(p, path, data, "prefix", LIFECYCLE_DEFAULTS)
    by_name = {area.name: area for area in areas}
    if area_name is not None and prefix is not None:
        p.add(path, data, "names both an area and a prefix", "Keep one of `area` or `prefix`.")
    elif area_name is not None:
        if area_name in by_name:
            prefix = by_name[area_name].prefix
        else:
            p.add(_key(path, "area"), area_name, "is not an area of this app",
                  f"Use one of: {', '.join(by_name) or 'declare the area first'}.")
    elif prefix is None:
        p.add(path, data, "does not say which objects it applies to",
              "Add `area: <name>`, or `prefix: '<area>/...'` ('' for the whole bucket, explicitly).")
    elif prefix and not any(prefix.startswith(area.prefix) for area in areas):
        p.add(_key(path, "prefix"), prefix, "is inside no area of this app, so the app never writes there",
              f"Start it with one of the area prefixes: {', '.join(repr(a.prefix) for a in areas)}.")

    transitions = _read_objects(p, _key(path, "transitions"),
                                _read_list(p, path, data, "transitions", LIFECYCLE_DEFAULTS), "transition",
                                lambda item_path, item: _read_transition(p, item_path, item))
    for index in range(1, len(transitions)):
        earlier, later = transitions[index - 1], transitions[index]
        later_path = _key(_key(path, "transitions"), index)
        if later.days <= earlier.days:
            p.add(_key(later_path, "days"), later.days,
                  f"must be later than the previous transition's {earlier.days} days",
                  f"List transitions in order of strictly increasing days (more than {earlier.days}).")
        if STORAGE_CLASS_RANK[later.storage_class] <= STORAGE_CLASS_RANK[earlier.storage_class]:
            p.add(_key(later_path, "storageClass"), later.storage_class,
                  f"is not colder than the previous class {earlier.storage_class}",
                  "Order transitions from warm to cold: STANDARD_IA, ONEZONE_IA, GLACIER_IR, GLACIER, DEEP_ARCHIVE.")

    expire_days = _read_int(p, path, data, "expireDays", LIFECYCLE_DEFAULTS, 1, 36500, "days")
    if expire_days is not None and transitions and expire_days <= transitions[-1].days:
        p.add(_key(path, "expireDays"), expire_days,
              f"must come after the last transition (day {transitions[-1].days})",
              f"Expire later than day {transitions[-1].days}, or drop the later transitions.")
    if not transitions and expire_days is None and not data.get("transitions"):
        p.add(path, data, "neither transitions nor expires anything", "Add `transitions` or `expireDays`.")
    return LifecycleRule(prefix=prefix or "", transitions=tuple(transitions), expire_days=expire_days)


def _read_cors_rule(p: _Problems, path: str, data: dict, protect_data: bool) -> CorsRule | None:
    _check_known(p, path, data, CORS_DEFAULTS)
    for required in ("origins", "methods"):
        if data.get(required) is None:
            p.add(path, data, f"has no {required}", f"Add `{required}: [...]`.")
    origins = _read_str_list(p, path, data, "origins", CORS_DEFAULTS)
    allow_any = _read_bool(p, path, data, "allowAnyOrigin", CORS_DEFAULTS)
    for index, origin in enumerate(origins):
        origin_key = _key(_key(path, "origins"), index)
        if origin == "*":
            if protect_data and not allow_any:
                p.add(origin_key, origin, "lets any website call this bucket, and this stack protects its data",
                      "List the app's own origins, or set `allowAnyOrigin: true` on this rule to accept the risk.")
        elif not _ORIGIN.match(origin):
            p.add(origin_key, origin, "is not an origin",
                  "Write scheme and host only, like 'https://app.example.com' (no path), or '*'.")
    methods = _read_str_list(p, path, data, "methods", CORS_DEFAULTS)
    for index, method in enumerate(methods):
        if method not in CORS_METHODS:
            p.add(_key(_key(path, "methods"), index), method, "is not a method S3 CORS allows",
                  f"Use one of {', '.join(CORS_METHODS)} (uppercase).")
    return CorsRule(
        origins=tuple(origins),
        methods=tuple(m for m in methods if m in CORS_METHODS),
        headers=tuple(_read_str_list(p, path, data, "headers", CORS_DEFAULTS)),
        expose_headers=tuple(_read_str_list(p, path, data, "exposeHeaders", CORS_DEFAULTS)),
        max_age_seconds=_read_count(p, path, data, "maxAgeSeconds", CORS_DEFAULTS, 0, 86400, "seconds"),
    )


def _read_app(p: _Problems, path: str, name: str, data: Any, bucket_prefix: str,
              protect_data: bool) -> AppSettings | None:
    if not naming.is_dns_label(name):
        p.add(path, name, "is not a valid app name",
              "Use lowercase letters, digits and inner '-', at most 63 characters (it becomes part of DNS names).")
        return None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        p.add(path, data, "must be an app object", "Write e.g. `{dialect: django}`.")
        return None
    _check_known(p, path, data, APP_DEFAULTS)
    dialect = _read_str(p, path, data, "dialect", APP_DEFAULTS, tuple(DIALECTS))

    explicit_bucket = _read_str(p, path, data, "bucketName", APP_DEFAULTS)
    bucket_name = explicit_bucket or naming.derived_bucket_name(bucket_prefix, name)
    bucket_problems = naming.bucket_name_problems(bucket_name)
    if bucket_problems and explicit_bucket:
        p.add(_key(path, "bucketName"), bucket_name,
              "is not a valid S3 bucket name: it " + "; it ".join(bucket_problems),
              "Choose a name S3 accepts.")
    elif bucket_problems:
        p.add(path, bucket_name, f"app '{name}' gets the bucket name <bucketPrefix>-{name}, which "
              + "; it ".join(bucket_problems),
              f"Shorten {NAMESPACE}:bucketPrefix ({bucket_prefix!r}) or the app name, "
              f"or set {_key(path, 'bucketName')} to a valid name.")

    areas_path = _key(path, "areas")
    raw_areas = data["areas"] if data.get("areas") is not None else DEFAULT_AREAS
    if not isinstance(raw_areas, dict) or not raw_areas:
        p.add(areas_path, raw_areas, "must be a non-empty map of area names to areas",
              "Write e.g. `areas: {uploads: {access: private}}`, or leave it out for one private area.")
        raw_areas = {}
    areas = [a for a in (_read_area(p, _key(areas_path, n), n, d) for n, d in raw_areas.items()) if a]
    _check_area_overlap(p, areas_path, areas)

    cors = _read_objects(p, _key(path, "cors"), _read_list(p, path, data, "cors", APP_DEFAULTS), "CORS rule",
                         lambda item_path, item: _read_cors_rule(p, item_path, item, protect_data))
    lifecycle = _read_objects(p, _key(path, "lifecycle"), _read_list(p, path, data, "lifecycle", APP_DEFAULTS),
                              "lifecycle rule", lambda item_path, item: _read_lifecycle_rule(p, item_path, item, areas))
    return AppSettings(name=name, dialect=dialect, bucket_name=bucket_name, areas=tuple(areas),
                       cors=tuple(cors), lifecycle=tuple(lifecycle))


def _read_tags(p: _Problems, path: str, data: Mapping) -> dict[str, str]:
    tags = _read_map(p, path, data, "tags", STACK_DEFAULTS)
    good = {}
    for tag, value in tags.items():
        tag_key = _key(_key(path, "tags"), tag)
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            p.add(tag_key, value, "is not a tag value", "Give the tag a text value.")
            continue
        problems = naming.aws_tag_problems(tag, str(value))
        if problems:
            p.add(tag_key, value, "is not a valid AWS tag: " + "; ".join(problems),
                  "Rename the tag or change its value.")
        else:
            good[tag] = str(value)
    return good


def _check_name_collisions(p: _Problems, apps_path: str, apps: list[AppSettings], backend: str,
                           replicated: bool) -> None:
    """Every physical name the stack declares is its own: an app's bucket, replica, role, alias or user may not
    be another app's (`shared-x` and its replica `shared-x-replica` against an app bucket `shared-x-replica`)."""
    owners: dict[tuple[str, str], str] = {}
    reported: set[frozenset] = set()
    for app in apps:
        for name, rule in [(app.bucket_name, naming.S3_BUCKET),
                           *naming.derived_names(app.bucket_name, backend, replicated)]:
            other = owners.setdefault((rule.resource, name), app.name)
            pair = frozenset((other, app.name))
            if other == app.name or pair in reported:
                continue
            reported.add(pair)
            if name == app.bucket_name and rule is naming.S3_BUCKET and name in (a.bucket_name for a in apps
                                                                                 if a.name == other):
                problem = f"is also the bucket of app '{other}'"
            else:
                problem = f"gives the {rule.resource} name {name!r}, which app '{other}' declares too"
            p.add(_key(_key(apps_path, app.name), "bucketName"), app.bucket_name, problem,
                  "Give each app its own bucket, none named like another app's replica.")


def decode_config_value(text: Any) -> Any:
    """Pulumi hands structured config to programs as JSON text; scalars stay as they are."""
    if isinstance(text, str) and text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except RecursionError:
            raise ValueError("nested too deep") from None
        except ValueError as error:
            if "integer string conversion" in str(error):
                raise ValueError("a number in it has too many digits") from None
            return text
    return text


def parse_settings(config: Mapping[str, Any], project: str, stack: str) -> StackSettings:
    """Turn a stack's config (full `namespace:key` names, as Pulumi stores it) into settings.

    Raises SettingsError listing every problem at once.
    """
    p = _Problems()
    prefix = f"{NAMESPACE}:"
    data = {}
    unreadable = set()
    for key, value in config.items():
        if key.startswith(prefix):
            try:
                data[key[len(prefix):]] = decode_config_value(value)
            except ValueError as error:
                unreadable.add(key[len(prefix):])
                p.add(key, HIDDEN, f"is not readable structured config ({error})",
                      "Write it as a YAML map or list of plain values.")
    path = prefix
    _check_known(p, path, data, STACK_DEFAULTS)
    _check_other_namespaces(p, config)

    backend = _read_str(p, path, data, "backend", STACK_DEFAULTS, BACKENDS)
    encryption = _read_str(p, path, data, "encryption", STACK_DEFAULTS, ENCRYPTION_KINDS)
    kms_key_arn = _read_str(p, path, data, "kmsKeyArn", STACK_DEFAULTS) or None
    if kms_key_arn and encryption != "kms":
        p.add(_key(path, "kmsKeyArn"), kms_key_arn, f"is set but encryption is {encryption!r}",
              f"Set {NAMESPACE}:encryption to kms, or remove kmsKeyArn.")
    elif kms_key_arn and not _KMS_KEY_ARN.match(kms_key_arn):
        p.add(_key(path, "kmsKeyArn"), kms_key_arn, "is not a KMS key ARN",
              "Use arn:aws:kms:<region>:<account>:key/<key-id>, or leave it out to create a rotated key.")
    protect_data = _read_bool(p, path, data, "protectData", STACK_DEFAULTS)
    force_destroy = _read_bool(p, path, data, "forceDestroy", STACK_DEFAULTS)
    if protect_data and force_destroy:
        p.add(_key(path, "forceDestroy"), True, "would let a destroy delete every object, but protectData is true",
              "Set forceDestroy to false, or protectData to false for a disposable stack.")

    warnings: list[str] = []
    minio = None
    region: Any
    if backend == "minio":
        minio, region = _read_minio_backend(p, warnings, config, data, encryption)
    else:
        region = config.get("aws:region")
        if not region:
            p.add("aws:region", region, "is required for the aws backend",
                  "Run `pulumi config set aws:region us-east-1`.")
        elif not _REGION.match(str(region)):
            p.add("aws:region", region, "is not an AWS region name", "Use a region like us-east-1.")
        if _read_str(p, path, data, "minioKmsKeyId", STACK_DEFAULTS):
            p.add(_key(path, "minioKmsKeyId"), data["minioKmsKeyId"], "applies only to the minio backend",
                  f"Remove it; on aws use {NAMESPACE}:encryption kms (and kmsKeyArn for an existing key).")
    if backend == "minio":
        _refuse_aws_only_features(p, path, data)

    # Empty (Pulumi.yaml's default) means derived: a bare app name would be a bucket name nobody chose.
    bucket_prefix = str(_read_str(p, path, data, "bucketPrefix", STACK_DEFAULTS)
                        or naming.default_bucket_prefix(project, stack))

    apps_path = _key(path, "apps")
    raw_apps = data.get("apps")
    if (not isinstance(raw_apps, dict) or not raw_apps) and "apps" not in unreadable:
        p.add(apps_path, raw_apps, "must name at least one app",
              "Add e.g. `app-storage:apps: {myapp: {dialect: django}}` to the stack file.")
    raw_apps = raw_apps if isinstance(raw_apps, dict) else {}
    apps = [a for a in (_read_app(p, _key(apps_path, name), name, app, bucket_prefix, protect_data)
                        for name, app in raw_apps.items()) if a]

    replication = cdn = None
    public_without_cdn = _read_bool(p, path, data, "publicWithoutCdn", STACK_DEFAULTS)
    versioning = _read_bool(p, path, data, "versioning", STACK_DEFAULTS)
    if backend == "aws":
        replication = _read_replication(p, path, data, str(region or ""), versioning)
        cdn = _read_cdn(p, warnings, path, data, apps)
        _check_public_delivery(p, warnings, path, apps, cdn, public_without_cdn, kms_key_arn)
    else:
        if not _asks_for(data.get("cdn")):
            _read_cdn(p, warnings, path, data, apps)  # a switched-off block is still checked, never ignored
        if public_without_cdn:
            warnings.append(f"{_key(path, 'publicWithoutCdn')} has no effect on minio: MinIO serves the public areas "
                            "itself, anonymously, from their prefixes. Remove it from this stack.")
    _check_name_collisions(p, apps_path, apps, backend, replicated=replication is not None)

    settings = StackSettings(
        stack=stack,
        backend=backend,
        region=str(region or "us-east-1"),
        encryption=encryption,
        kms_key_arn=kms_key_arn,
        versioning=versioning,
        noncurrent_version_expiration_days=_read_count(p, path, data, "noncurrentVersionExpirationDays",
                                                     STACK_DEFAULTS, 1, 36500, "days"),
        abort_incomplete_multipart_upload_days=_read_count(p, path, data, "abortIncompleteMultipartUploadDays",
                                                         STACK_DEFAULTS, 1, 365, "days"),
        protect_data=protect_data,
        force_destroy=force_destroy,
        bucket_prefix=bucket_prefix,
        tags=_read_tags(p, path, data),
        apps=tuple(apps),
        minio=minio,
        replication=replication,
        cdn=cdn,
        public_without_cdn=public_without_cdn and backend == "aws",
    )
    if backend == "minio":
        warnings.extend(minio_skipped_features(settings))
    warnings.extend(_cache_control_nothing_applies(settings))
    if p.messages:
        raise SettingsError(p.messages)
    return replace(settings, warnings=tuple(warnings))


# ---------------------------------------------------------------------------------------------
# Backend capabilities. Where the stack asks a backend for what it cannot declare, the gate decides per
# feature: harmless to skip on a dev backend -> one warning naming the feature and the apps; meaningful
# -> a problem. Nothing is dropped silently.


def _check_other_namespaces(p: _Problems, config: Mapping[str, Any]) -> None:
    """MinIO credentials (or misspellings of them) in the stack, on any backend; unknown MinIO settings; near
    misses of a known namespace. None of their values is ever shown: it may be a password."""
    for key in config:
        namespace, _, name = str(key).partition(":")
        if namespace == "minio" and name not in MINIO_PROVIDER_KEYS:
            if name in MINIO_CREDENTIAL_KEYS or difflib.get_close_matches(name, MINIO_CREDENTIAL_KEYS, n=1, cutoff=0.8):
                p.add(key, HIDDEN, "is a MinIO credential in the stack config, or a misspelling of one (its value is "
                      "not shown)", f"Remove it (`pulumi config rm {key}`) and export MINIO_USER and MINIO_PASSWORD; "
                      "the provider reads them from the environment.")
            else:
                guess = difflib.get_close_matches(name, MINIO_PROVIDER_KEYS, n=1, cutoff=0.6)
                p.add(key, HIDDEN, "is not a setting of the MinIO provider (its value is not shown)",
                      f"Did you mean 'minio:{guess[0]}'?" if guess else
                      f"Known: {', '.join('minio:' + k for k in MINIO_PROVIDER_KEYS)}.")
        elif namespace not in KNOWN_NAMESPACES:
            guess = difflib.get_close_matches(namespace, KNOWN_NAMESPACES, n=1, cutoff=0.75)
            if guess:
                p.add(key, HIDDEN, f"is in the namespace '{namespace}', which nothing here reads (its value is not "
                      "shown)", f"Did you mean '{guess[0]}:{name}'?")


def _read_minio_backend(p: _Problems, warnings: list[str], config: Mapping[str, Any], data: Mapping,
                         encryption: str) -> tuple[MinioSettings, str]:
    path = "minio:"
    provider = {key[len(path):]: value for key, value in config.items() if key.startswith(path)}
    server = _read_str(p, path, provider, "minioServer", MINIO_PROVIDER_DEFAULTS)
    use_tls = _read_bool(p, path, provider, "minioSsl", MINIO_PROVIDER_DEFAULTS)
    region = _read_str(p, path, provider, "minioRegion", MINIO_PROVIDER_DEFAULTS) or "us-east-1"
    host = _HOST_PORT.match(server or "")
    if not server:
        p.add(_key(path, "minioServer"), server, "is required for the minio backend",
              "Run `pulumi config set minio:minioServer localhost:9000`.")
    elif not host:
        p.add(_key(path, "minioServer"), server, "must be host:port, without scheme or path",
              "Write it like localhost:9000; TLS is chosen by minio:minioSsl.")
    elif not use_tls and host.group("host") not in LOCAL_HOSTS:
        warnings.append(f"minio:minioServer {server!r} is not this machine and minio:minioSsl is false: keys and "
                        "objects travel unencrypted. Set minio:minioSsl to true for a shared MinIO.")

    kms_key_id = _read_str(p, NAMESPACE + ":", data, "minioKmsKeyId", STACK_DEFAULTS) or None
    if data.get("kmsKeyArn") and encryption == "kms":
        p.add(_key(NAMESPACE + ":", "kmsKeyArn"), data["kmsKeyArn"], "is an AWS KMS key, which MinIO cannot use",
              f"Name a key of MinIO's KMS in {NAMESPACE}:minioKmsKeyId instead.")
    if encryption == "kms" and not kms_key_id:
        p.add(_key(NAMESPACE + ":", "encryption"), encryption,
              "asks for KMS encryption, which MinIO gives only with a key of its own KMS (KES)",
              f"Set {NAMESPACE}:minioKmsKeyId to that key's name, or use aes256 for a dev stack.")
    return MinioSettings(server=server or "", use_tls=use_tls, kms_key_id=kms_key_id), region


# Stack-level features only AWS can give.
AWS_ONLY_FEATURES = {
    "replication": "cross-region replication",
    "cdn": "the CloudFront CDN",
}


def _asks_for(value: Any) -> bool:
    if isinstance(value, dict):
        return bool(value) and value.get("enabled", True) not in (False, "false")
    return value not in (None, False, "false", "")


def _refuse_aws_only_features(p: _Problems, path: str, data: Mapping) -> None:
    for key, feature in AWS_ONLY_FEATURES.items():
        if _asks_for(data.get(key)):
            p.add(_key(path, key), data[key], f"asks the minio backend for {feature}, which pulumi-minio 0.17 "
                  "cannot declare", f"Remove {_key(path, key)} from this stack; it belongs to an aws stack.")


def _read_replication(p: _Problems, path: str, data: Mapping, source_region: str,
                      versioning: bool) -> ReplicationSettings | None:
    raw = data.get("replication")
    if not _asks_for(raw):
        return None
    key = _key(path, "replication")
    if not isinstance(raw, dict):
        p.add(key, raw, "must be a replication object", "Write e.g. `{region: us-west-2}`.")
        return None
    _check_known(p, key, raw, REPLICATION_DEFAULTS)
    region = _read_str(p, key, raw, "region", REPLICATION_DEFAULTS)
    if not region:
        p.add(_key(key, "region"), region, "is required: the region of the replica buckets",
              "Set it to another region than aws:region, e.g. us-west-2.")
    elif not _REGION.match(region):
        p.add(_key(key, "region"), region, "is not an AWS region name", "Use a region like us-west-2.")
    elif region == source_region:
        p.add(_key(key, "region"), region, "is the source region, so one regional outage takes both copies",
              f"Choose a region other than aws:region ({source_region}).")
    if not versioning:
        p.add(_key(path, "versioning"), False, "is off, but replication needs versioning on both buckets",
              f"Set {_key(path, 'versioning')} to true, or remove {key}.")
    return ReplicationSettings(
        region=region or "",
        storage_class=_read_str(p, key, raw, "storageClass", REPLICATION_DEFAULTS, REPLICA_STORAGE_CLASSES),
        replication_time_control=_read_bool(p, key, raw, "replicationTimeControl", REPLICATION_DEFAULTS),
    )


def _read_cdn(p: _Problems, warnings: list[str], path: str, data: Mapping,
              apps: list[AppSettings]) -> CdnSettings | None:
    raw = data.get("cdn")
    key = _key(path, "cdn")
    if raw is not None and not isinstance(raw, dict):
        p.add(key, raw, "must be a CDN object", "Write e.g. `{enabled: true, priceClass: PriceClass_100}`.")
        return None
    raw = raw or {}
    _check_known(p, key, raw, CDN_DEFAULTS)
    enabled = _read_bool(p, key, raw, "enabled", CDN_DEFAULTS)
    public_apps = {app.name for app in apps if any(area.is_public for area in app.areas)}
    domains = {}
    for app_name, domain in _read_map(p, key, raw, "domains", CDN_DEFAULTS).items():
        domain_key = _key(_key(key, "domains"), app_name)
        if app_name not in public_apps:
            p.add(domain_key, domain, "names an app without public areas, which gets no distribution",
                  f"Use one of: {', '.join(sorted(public_apps)) or 'no app has public areas'}.")
        elif not isinstance(domain, str) or not _DOMAIN.match(domain):
            p.add(domain_key, domain, "is not a domain name", "Write a lowercase host name like media.example.com.")
        else:
            domains[app_name] = domain
    certificate_arn = _read_matching(
        p, key, raw, "certificateArn", CDN_DEFAULTS, _ACM_CERTIFICATE_ARN, "is not an ACM certificate ARN in us-east-1",
        "CloudFront takes certificates only from us-east-1: arn:aws:acm:us-east-1:<account>:certificate/<id>.")
    hosted_zone_id = _read_matching(p, key, raw, "hostedZoneId", CDN_DEFAULTS, _HOSTED_ZONE_ID,
                                    "is not a Route53 hosted zone id", "Use the zone's id, like Z0123456789ABCDEFGHIJ.")
    if enabled and domains and not (certificate_arn or hosted_zone_id):
        p.add(_key(key, "domains"), domains, "need a certificate",
              f"Set {_key(key, 'certificateArn')} (an ACM certificate in us-east-1 covering them), or "
              f"{_key(key, 'hostedZoneId')} to create and DNS-validate one.")
    log_bucket = _read_str(p, key, raw, "logBucket", CDN_DEFAULTS)
    if log_bucket and naming.bucket_name_problems(log_bucket):
        p.add(_key(key, "logBucket"), log_bucket, "is not a valid S3 bucket name",
              "Name the existing bucket that receives CloudFront standard logs.")
    web_acl_arn = _read_matching(p, key, raw, "webAclArn", CDN_DEFAULTS, _WAF_WEB_ACL_ARN,
                                 "is not a CloudFront-scope WAFv2 web ACL ARN",
                                 "Use arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>.")
    price_class = _read_str(p, key, raw, "priceClass", CDN_DEFAULTS, PRICE_CLASSES)
    if not enabled:
        return None  # read in full all the same: a typo in a switched-off block fails now, not when switched on
    if not public_apps:
        warnings.append(f"{key} is enabled but no app has a public area, so no distribution is declared.")
    return CdnSettings(price_class=price_class, domains=domains, certificate_arn=certificate_arn,
                       hosted_zone_id=hosted_zone_id, log_bucket=log_bucket, web_acl_arn=web_acl_arn)


def _check_public_delivery(p: _Problems, warnings: list[str], path: str, apps: list[AppSettings],
                           cdn: CdnSettings | None, public_without_cdn: bool, kms_key_arn: str | None) -> None:
    """On AWS a public area is served by the CDN from a private bucket, or - opted in - by S3 itself."""
    public = {app.name: [a.name for a in app.areas if a.is_public] for app in apps}
    public = {name: areas for name, areas in public.items() if areas}
    if public_without_cdn and cdn:
        p.add(_key(path, "publicWithoutCdn"), True, "opens the buckets to the public, but the CDN serves them",
              f"Remove {_key(path, 'publicWithoutCdn')}; the CDN reads a private bucket.")
        return
    for app_name, areas in public.items():
        if cdn is None and not public_without_cdn:
            p.add(_key(_key(path, "apps"), app_name), f"public: {', '.join(areas)}",
                  "has public areas, but no CDN serves them and the bucket blocks public access",
                  f"Set {_key(path, 'cdn')}: {{enabled: true}} (private bucket behind CloudFront), or "
                  f"{_key(path, 'publicWithoutCdn')}: true to let S3 serve them (relaxes Block Public Access).")
    if public_without_cdn and public:
        warnings.append(f"{_key(path, 'publicWithoutCdn')}: anyone can read the public areas of apps "
                        f"{', '.join(public)} straight from S3; BlockPublicPolicy and RestrictPublicBuckets are off "
                        "on those buckets.")
    if cdn and public and kms_key_arn:
        warnings.append(f"{_key(path, 'kmsKeyArn')}: the key is yours, so its key policy is not managed here; it "
                        f"must let the distributions of apps {', '.join(public)} decrypt (kms:Decrypt for "
                        "cloudfront.amazonaws.com, conditioned on each distribution's ARN).")


def _cache_control_nothing_applies(settings: StackSettings) -> list[str]:
    """`cacheControl` is sent by the CDN for the public areas it serves; elsewhere (MinIO, S3 without a CDN,
    private areas read through presigned URLs) only the object's own Cache-Control reaches a browser."""
    served_by_cdn = settings.backend == "aws" and settings.cdn is not None
    unapplied = [f"{app.name}.{area.name}" for app in settings.apps for area in app.areas
                 if area.cache_control and not (area.is_public and served_by_cdn)]
    if not unapplied:
        return []
    return [f"cacheControl of areas {', '.join(unapplied)} is not applied by anything on this stack (no CDN "
            "serves them): set Cache-Control on each object when the app uploads it (django-storages: "
            "AWS_S3_OBJECT_PARAMETERS = {'CacheControl': ...}; boto3: ExtraArgs={'CacheControl': ...}; minio-py: "
            "metadata={'Cache-Control': ...})."]


def _skipped(feature: str, apps: list[str], why: str) -> str | None:
    if not apps:
        return None
    return f"{feature} skipped on minio for app{'s' if len(apps) > 1 else ''} {', '.join(apps)}: {why}"


def minio_skipped_features(settings: StackSettings) -> list[str]:
    """What a minio stack asks for that pulumi-minio 0.17 cannot declare, each harmless to skip in dev."""
    every_app = [app.name for app in settings.apps]
    notes = [
        _skipped("CORS rules", [app.name for app in settings.apps if app.cors],
                 "pulumi-minio 0.17 has no bucket CORS resource; MinIO answers CORS itself, server-wide "
                 "(MINIO_API_CORS_ALLOW_ORIGIN)."),
        _skipped("lifecycle tier transitions", [app.name for app in settings.apps
                                                if any(rule.transitions for rule in app.lifecycle)],
                 "pulumi-minio 0.17 cannot declare transitions; expiry rules are kept."),
        _skipped("aborting incomplete multipart uploads", every_app,
                 "pulumi-minio 0.17 cannot declare the rule; MinIO removes stale uploads itself."),
        _skipped("tags", every_app if settings.tags else [],
                 "pulumi-minio 0.17 buckets take no tags, and its users never send theirs to MinIO."),
    ]
    if settings.minio is not None and not settings.minio.kms_key_id:
        notes.append(_skipped("default encryption", every_app,
                              f"MinIO encrypts only with a key of its KMS; set {NAMESPACE}:minioKmsKeyId to one."))
    return [note for note in notes if note]


def current_stack_config() -> dict[str, Any]:
    """The running program's config, as the Pulumi language host (or the offline plan) provided it."""
    from pulumi.runtime import config as runtime_config

    merged = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    return merged


def load_settings() -> StackSettings:
    """Settings of the stack being run; a SettingsError stops the program before any resource."""
    import pulumi

    return parse_settings(current_stack_config(), pulumi.get_project(), pulumi.get_stack())
