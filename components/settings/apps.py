"""The rules of one app: its name, dialect, bucket, areas, CORS and lifecycle rules; tags; and the name space
all apps share (no physical name declared twice)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components import naming
from components.dialects import DIALECTS
from components.settings.adoption import check_kept_rule_ids, read_adopt, read_keep, read_kept_rule_id
from components.settings.identities import check_identity_fits, identity_warnings, read_identity
from components.settings.readers import (
    Problems,
    check_known,
    key_path,
    read_bool,
    read_count,
    read_int,
    read_list,
    read_map,
    read_matching,
    read_objects,
    read_str,
    read_str_list,
)
from components.settings.schema import (
    ACCESS_LEVELS,
    APP_DEFAULTS,
    AREA_DEFAULTS,
    CORS_DEFAULTS,
    CORS_METHODS,
    DEFAULT_AREAS,
    HEADER_VALUE,
    INFREQUENT_ACCESS_CLASSES,
    INFREQUENT_ACCESS_MIN_DAYS,
    KEPT_LIFECYCLE_DEFAULTS,
    LIFECYCLE_DEFAULTS,
    MAX_PRESIGN_SECONDS,
    NAMESPACE,
    ORIGIN,
    STACK_DEFAULTS,
    STORAGE_CLASS_RANK,
    TRANSITION_DEFAULTS,
)
from components.settings.types import AppSettings, Area, CorsRule, IdentitySettings, LifecycleRule, Transition


def read_area(p: Problems, path: str, name: str, data: Any) -> Area | None:
    if not naming.is_area_name(name):
        p.add(path, name, "is not a valid area name",
              "Use lowercase letters, digits, '-' or '_', starting and ending with a letter or digit.")
        return None
    if not isinstance(data, dict):
        p.add(path, data, "must be an area object", "Write e.g. `{access: private}`.")
        return None
    check_known(p, path, data, AREA_DEFAULTS)
    access = read_str(p, path, data, "access", AREA_DEFAULTS, ACCESS_LEVELS)
    prefix = read_str(p, path, data, "prefix", AREA_DEFAULTS)
    if prefix is None:
        prefix = f"{name}/"
    elif prefix and (not prefix.endswith("/") or prefix.startswith("/") or "*" in prefix):
        p.add(key_path(path, "prefix"), prefix, "must end with '/', not start with '/', and hold no '*'",
              f"Write it like '{name}/', or '' for the whole bucket.")
    if access == "public" and prefix == "":
        p.add(key_path(path, "prefix"), prefix,
              "makes a public area of the whole bucket, so nothing in it stays private",
              f"Give the public area its own prefix, like '{name}/'.")
    return Area(
        name=name,
        access=access,
        prefix=prefix,
        cache_control=read_matching(p, path, data, "cacheControl", AREA_DEFAULTS, HEADER_VALUE,
                                     "is not an HTTP header value CloudFront can send",
                                     "Write it on one line in plain ASCII, like 'public, max-age=86400'."),
        presign_seconds=read_count(p, path, data, "presignSeconds", AREA_DEFAULTS,
                                  1, MAX_PRESIGN_SECONDS, "seconds"),
    )


def check_area_overlap(p: Problems, path: str, areas: list[Area]) -> None:
    for index, first in enumerate(areas):
        for second in areas[index + 1:]:
            if first.prefix.startswith(second.prefix) or second.prefix.startswith(first.prefix):
                p.add(key_path(key_path(path, second.name), "prefix"), second.prefix,
                      f"overlaps area '{first.name}' (prefix {first.prefix!r}), so access to one leaks to the other",
                      "Give each area its own prefix, none inside another.")
            elif naming.verify_scratch_rule_id(first.prefix) == naming.verify_scratch_rule_id(second.prefix):
                p.add(key_path(key_path(path, second.name), "prefix"), second.prefix,
                      f"gets the same lifecycle rule id as area '{first.name}' (prefix {first.prefix!r}), "
                      f"{naming.verify_scratch_rule_id(first.prefix)!r}, and S3 and MinIO refuse two rules with one id",
                      "Give the areas prefixes that differ in more than case and punctuation.")


def read_transition(p: Problems, path: str, data: dict) -> Transition | None:
    check_known(p, path, data, TRANSITION_DEFAULTS)
    if data.get("days") is None or data.get("storageClass") is None:
        p.add(path, data, "needs both days and storageClass", "Write e.g. `{days: 90, storageClass: STANDARD_IA}`.")
        return None
    before = len(p.messages)
    days = read_int(p, path, data, "days", TRANSITION_DEFAULTS, 0, 36500, "days")
    storage_class = read_str(p, path, data, "storageClass", TRANSITION_DEFAULTS, tuple(STORAGE_CLASS_RANK))
    if len(p.messages) > before or days is None or storage_class is None:
        return None
    if storage_class in INFREQUENT_ACCESS_CLASSES and days < INFREQUENT_ACCESS_MIN_DAYS:
        p.add(key_path(path, "days"), days,
              f"is too early: S3 moves objects to {storage_class} only after {INFREQUENT_ACCESS_MIN_DAYS} days",
              f"Use {INFREQUENT_ACCESS_MIN_DAYS} or more days.")
    return Transition(days=days, storage_class=storage_class)


def read_lifecycle_rule(p: Problems, path: str, data: dict, areas: list[Area],
                        kept: bool = False) -> LifecycleRule | None:
    """An app's lifecycle rule, inside its areas; `kept` (keep.lifecycle): a rule the adopted bucket had, under its
    own `id`, on any prefix (other consumers write there)."""
    check_known(p, path, data, KEPT_LIFECYCLE_DEFAULTS if kept else LIFECYCLE_DEFAULTS)
    rule_id = read_kept_rule_id(p, path, data) if kept else None
    area_name = read_str(p, path, data, "area", LIFECYCLE_DEFAULTS)
    prefix = read_str(p, path, data, "prefix", LIFECYCLE_DEFAULTS)
    by_name = {area.name: area for area in areas}
    if area_name is not None and prefix is not None:
        p.add(path, data, "names both an area and a prefix", "Keep one of `area` or `prefix`.")
    elif area_name is not None:
        if area_name in by_name:
            prefix = by_name[area_name].prefix
        else:
            p.add(key_path(path, "area"), area_name, "is not an area of this app",
                  f"Use one of: {', '.join(by_name) or 'declare the area first'}.")
    elif prefix is None:
        p.add(path, data, "does not say which objects it applies to",
              "Add `area: <name>`, or `prefix: '<area>/...'` ('' for the whole bucket, explicitly).")
    elif prefix and not kept and not any(prefix.startswith(area.prefix) for area in areas):
        p.add(key_path(path, "prefix"), prefix, "is inside no area of this app, so the app never writes there",
              f"Start it with one of the area prefixes: {', '.join(repr(a.prefix) for a in areas)}.")

    transitions = read_objects(p, key_path(path, "transitions"),
                                read_list(p, path, data, "transitions", LIFECYCLE_DEFAULTS), "transition",
                                lambda item_path, item: read_transition(p, item_path, item))
    for index in range(1, len(transitions)):
        earlier, later = transitions[index - 1], transitions[index]
        later_path = key_path(key_path(path, "transitions"), index)
        if later.days <= earlier.days:
            p.add(key_path(later_path, "days"), later.days,
                  f"must be later than the previous transition's {earlier.days} days",
                  f"List transitions in order of strictly increasing days (more than {earlier.days}).")
        if STORAGE_CLASS_RANK[later.storage_class] <= STORAGE_CLASS_RANK[earlier.storage_class]:
            p.add(key_path(later_path, "storageClass"), later.storage_class,
                  f"is not colder than the previous class {earlier.storage_class}",
                  "Order transitions from warm to cold: STANDARD_IA, ONEZONE_IA, GLACIER_IR, GLACIER, DEEP_ARCHIVE.")

    expire_days = read_int(p, path, data, "expireDays", LIFECYCLE_DEFAULTS, 1, 36500, "days")
    if expire_days is not None and transitions and expire_days <= transitions[-1].days:
        p.add(key_path(path, "expireDays"), expire_days,
              f"must come after the last transition (day {transitions[-1].days})",
              f"Expire later than day {transitions[-1].days}, or drop the later transitions.")
    if not transitions and expire_days is None and not data.get("transitions"):
        p.add(path, data, "neither transitions nor expires anything", "Add `transitions` or `expireDays`.")
    return LifecycleRule(prefix=prefix or "", transitions=tuple(transitions), expire_days=expire_days,
                         rule_id=rule_id)


def read_cors_rule(p: Problems, path: str, data: dict, protect_data: bool) -> CorsRule | None:
    check_known(p, path, data, CORS_DEFAULTS)
    for required in ("origins", "methods"):
        if data.get(required) is None:
            p.add(path, data, f"has no {required}", f"Add `{required}: [...]`.")
    origins = read_str_list(p, path, data, "origins", CORS_DEFAULTS)
    allow_any = read_bool(p, path, data, "allowAnyOrigin", CORS_DEFAULTS)
    for index, origin in enumerate(origins):
        origin_key = key_path(key_path(path, "origins"), index)
        if origin == "*":
            if protect_data and not allow_any:
                p.add(origin_key, origin, "lets any website call this bucket, and this stack protects its data",
                      "List the app's own origins, or set `allowAnyOrigin: true` on this rule to accept the risk.")
        elif not ORIGIN.match(origin):
            p.add(origin_key, origin, "is not an origin",
                  "Write scheme and host only, like 'https://app.example.com' (no path), or '*'.")
    methods = read_str_list(p, path, data, "methods", CORS_DEFAULTS)
    for index, method in enumerate(methods):
        if method not in CORS_METHODS:
            p.add(key_path(key_path(path, "methods"), index), method, "is not a method S3 CORS allows",
                  f"Use one of {', '.join(CORS_METHODS)} (uppercase).")
    return CorsRule(
        origins=tuple(origins),
        methods=tuple(m for m in methods if m in CORS_METHODS),
        headers=tuple(read_str_list(p, path, data, "headers", CORS_DEFAULTS)),
        expose_headers=tuple(read_str_list(p, path, data, "exposeHeaders", CORS_DEFAULTS)),
        max_age_seconds=read_count(p, path, data, "maxAgeSeconds", CORS_DEFAULTS, 0, 86400, "seconds"),
    )


def read_app(p: Problems, path: str, name: str, data: Any, bucket_prefix: str, protect_data: bool,
             backend: str = "aws", stack_identity: tuple[str, IdentitySettings] = ("", IdentitySettings()),
             warnings: list[str] | None = None, force_destroy: bool = False, region: str = "us-east-1",
             ) -> AppSettings | None:
    """`stack_identity`: where the stack's default identity is declared, and what it is."""
    if not naming.is_dns_label(name):
        p.add(path, name, "is not a valid app name",
              "Use lowercase letters, digits and inner '-', at most 63 characters (it becomes part of DNS names).")
        return None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        p.add(path, data, "must be an app object", "Write e.g. `{dialect: django}`.")
        return None
    check_known(p, path, data, APP_DEFAULTS)
    dialect = read_str(p, path, data, "dialect", APP_DEFAULTS, tuple(DIALECTS))

    explicit_bucket = read_str(p, path, data, "bucketName", APP_DEFAULTS)
    bucket_name = explicit_bucket or naming.derived_bucket_name(bucket_prefix, name)
    bucket_problems = naming.bucket_name_problems(bucket_name)
    if bucket_problems and explicit_bucket:
        p.add(key_path(path, "bucketName"), bucket_name,
              "is not a valid S3 bucket name: it " + "; it ".join(bucket_problems),
              "Choose a name S3 accepts.")
    elif bucket_problems:
        p.add(path, bucket_name, f"app '{name}' gets the bucket name <bucketPrefix>-{name}, which "
              + "; it ".join(bucket_problems),
              f"Shorten {NAMESPACE}:bucketPrefix ({bucket_prefix!r}) or the app name, "
              f"or set {key_path(path, 'bucketName')} to a valid name.")

    areas_path = key_path(path, "areas")
    raw_areas = data["areas"] if data.get("areas") is not None else DEFAULT_AREAS
    if not isinstance(raw_areas, dict) or not raw_areas:
        p.add(areas_path, raw_areas, "must be a non-empty map of area names to areas",
              "Write e.g. `areas: {uploads: {access: private}}`, or leave it out for one private area.")
        raw_areas = {}
    areas = [a for a in (read_area(p, key_path(areas_path, n), n, d) for n, d in raw_areas.items()) if a]
    check_area_overlap(p, areas_path, areas)

    cors = read_objects(p, key_path(path, "cors"), read_list(p, path, data, "cors", APP_DEFAULTS), "CORS rule",
                         lambda item_path, item: read_cors_rule(p, item_path, item, protect_data))
    lifecycle = read_objects(p, key_path(path, "lifecycle"), read_list(p, path, data, "lifecycle", APP_DEFAULTS),
                              "lifecycle rule", lambda item_path, item: read_lifecycle_rule(p, item_path, item, areas))
    adopt = read_adopt(p, path, data, explicit_bucket, force_destroy)
    arn = naming.bucket_arn(bucket_name, region) if backend == "aws" else naming.minio_bucket_arn(bucket_name)
    keep = read_keep(p, path, data, adopt, backend, arn,
                     lambda item_path, item: read_lifecycle_rule(p, item_path, item, areas, kept=True))
    check_kept_rule_ids(p, path, (*(rule.id_at(index + 1) for index, rule in enumerate(lifecycle)),
                                  *(naming.verify_scratch_rule_id(area.prefix) for area in areas),
                                  naming.ABORT_MULTIPART_RULE_ID, naming.NONCURRENT_RULE_ID), keep)
    identity_path, identity = stack_identity
    if data.get("identity") is not None:
        identity_path = key_path(path, "identity")
        identity = read_identity(p, identity_path, data["identity"])
    check_identity_fits(p, identity_path, identity, backend, dialect)
    if warnings is not None:
        warnings.extend(w for w in identity_warnings(identity_path, identity) if w not in warnings)
    return AppSettings(name=name, dialect=dialect, bucket_name=bucket_name, areas=tuple(areas),
                       cors=tuple(cors), lifecycle=tuple(lifecycle), identity=identity, adopt=adopt, keep=keep)


def read_tags(p: Problems, path: str, data: Mapping) -> dict[str, str]:
    tags = read_map(p, path, data, "tags", STACK_DEFAULTS)
    good = {}
    for tag, value in tags.items():
        tag_key = key_path(key_path(path, "tags"), tag)
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


def check_name_collisions(p: Problems, apps_path: str, apps: list[AppSettings], backend: str,
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
            p.add(key_path(key_path(apps_path, app.name), "bucketName"), app.bucket_name, problem,
                  "Give each app its own bucket, none named like another app's replica.")
