"""Adopting a bucket that exists already (`adopt`), and what it had that must stay (`keep`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from components import documents
from components.settings.readers import (
    Problems,
    check_known,
    key_path,
    read_bool,
    read_list,
    read_objects,
    read_str,
    read_str_list,
)
from components.settings.schema import APP_DEFAULTS, KEEP_DEFAULTS, KEPT_LIFECYCLE_DEFAULTS, KMS_KEY_ARN, NAMESPACE
from components.settings.types import KeepSettings, LifecycleRule

LIFECYCLE_RULE_ID_MAX = 255
"""S3 API reference, LifecycleRule `ID`: "The value cannot be longer than 255 characters"."""
STATEMENT_KEYS = ("Sid", "Effect", "Principal", "Action", "NotAction", "Resource", "Condition")
PRINCIPAL_KINDS = ("AWS", "Service", "CanonicalUser", "Federated")


def read_kept_rule_id(p: Problems, path: str, data: Mapping) -> str | None:
    rule_id = read_str(p, path, data, "id", KEPT_LIFECYCLE_DEFAULTS)
    if not rule_id or len(rule_id) > LIFECYCLE_RULE_ID_MAX:
        p.add(key_path(path, "id"), rule_id, f"must be the rule's id in the bucket, 1 to {LIFECYCLE_RULE_ID_MAX} "
              "characters", "Copy the id make adopt prints for this rule.")
        return None
    return rule_id


def read_adopt(p: Problems, path: str, data: Mapping, explicit_bucket: str | None, force_destroy: bool) -> bool:
    adopt = read_bool(p, path, data, "adopt", APP_DEFAULTS)
    if adopt and not explicit_bucket:
        p.add(key_path(path, "adopt"), adopt, "needs the existing bucket's name: a derived name is a bucket nobody "
              "made yet", f"Set {key_path(path, 'bucketName')} to the bucket to adopt.")
    if adopt and force_destroy:
        p.add(key_path(path, "adopt"), adopt, f"is refused while {NAMESPACE}:forceDestroy is true: a destroy would "
              "delete every object the bucket held before this stack", "Set forceDestroy to false.")
    return adopt


def statement_problems(statement: Mapping[str, Any], bucket_arn: str) -> list[tuple[str, str, str]]:
    """What is wrong with a kept bucket policy statement: (key, problem, fix) for each finding."""
    found: list[tuple[str, str, str]] = []
    unknown = [key for key in statement if key not in STATEMENT_KEYS]
    if unknown:
        found.append((unknown[0], "is not a statement key this stack keeps",
                      f"Use {', '.join(STATEMENT_KEYS)} (NotPrincipal and NotResource are broad by construction)."))
    if statement.get("Effect") not in ("Allow", "Deny"):
        found.append(("Effect", "must be Allow or Deny", "Copy the statement as make adopt prints it."))
    principal = statement.get("Principal")
    if principal != "*" and not (isinstance(principal, dict) and principal
                                 and set(principal) <= set(PRINCIPAL_KINDS)
                                 and all(_strings(value) for value in principal.values())):
        found.append(("Principal", "must be '*' or a map of AWS, Service, CanonicalUser or Federated to names",
                      "A bucket policy statement names whom it applies to."))
    if ("Action" in statement) == ("NotAction" in statement):
        found.append(("Action", "needs exactly one of Action and NotAction", "Keep the one the bucket had."))
    actions = statement.get("Action", statement.get("NotAction"))
    if actions is not None and not (_strings(actions) and all(a == "*" or a.startswith("s3:") for a in
                                                              _as_list(actions))):
        found.append(("Action", "must name S3 actions (s3:...)", "A bucket policy governs S3 actions only."))
    resources = statement.get("Resource")
    if not _strings(resources) or not all(r == bucket_arn or r.startswith(f"{bucket_arn}/")
                                          for r in _as_list(resources)):
        found.append(("Resource", f"must name this bucket ({bucket_arn}) or objects in it",
                      "A statement kept in this bucket's policy speaks of this bucket only."))
    condition = statement.get("Condition")
    if condition is not None and not (isinstance(condition, dict)
                                      and all(isinstance(test, dict) for test in condition.values())):
        found.append(("Condition", "must map condition operators to key-value maps",
                      "Copy it as make adopt prints it."))
    if not found and documents.is_public_statement(statement):
        found.append(("Principal", "makes the bucket public: S3 refuses a public policy while BlockPublicPolicy is on",
                      "Serve those objects from a public area (areas.<name>.access: public) instead."))
    return found


def read_keep(p: Problems, path: str, data: Mapping, adopt: bool, backend: str, bucket_arn: str,
              read_rule: Callable[[str, dict], LifecycleRule | None]) -> KeepSettings:
    """`keep`: statements, rules and keys an adopted bucket keeps. `read_rule` reads one kept lifecycle rule."""
    raw = data.get("keep")
    if raw is None:
        return KeepSettings()
    keep_path = key_path(path, "keep")
    if not isinstance(raw, dict):
        p.add(keep_path, raw, "must be a map", "Write e.g. `keep: {lifecycle: [...]}`.")
        return KeepSettings()
    if not adopt:
        p.add(keep_path, raw, "keeps what an adopted bucket had, but this app adopts no bucket",
              f"Set {key_path(path, 'adopt')} to true, or remove keep.")
    check_known(p, keep_path, raw, KEEP_DEFAULTS)
    statements = read_list(p, keep_path, raw, "policyStatements", KEEP_DEFAULTS)
    keys = read_str_list(p, keep_path, raw, "kmsKeyArns", KEEP_DEFAULTS)
    for name, values in (("policyStatements", statements), ("kmsKeyArns", keys)):
        if values and backend != "aws":
            p.add(key_path(keep_path, name), values, "applies only to the aws backend",
                  "MinIO's bucket policies grant anonymous access and its keys live in KES: remove it.")
    statements_path = key_path(keep_path, "policyStatements")
    sids = set(documents.BUCKET_POLICY_SIDS)
    for index, statement in enumerate(statements):
        item = key_path(statements_path, index)
        if not isinstance(statement, dict):
            p.add(item, statement, "must be a policy statement object", "Copy it as make adopt prints it.")
            continue
        for key, problem, fix in statement_problems(statement, bucket_arn):
            p.add(key_path(item, key), statement.get(key), problem, fix)
        sid = statement.get("Sid")
        if sid is not None and (not isinstance(sid, str) or not sid or sid in sids):
            p.add(key_path(item, "Sid"), sid, "must be a text of its own, not another statement's or the stack's "
                  f"({', '.join(documents.BUCKET_POLICY_SIDS)})", "Rename it or leave Sid out.")
        elif sid is not None:
            sids.add(sid)
    for index, key_arn in enumerate(keys):
        if not KMS_KEY_ARN.match(key_arn):
            p.add(key_path(key_path(keep_path, "kmsKeyArns"), index), key_arn, "is not a KMS key ARN",
                  "Use arn:aws:kms:<region>:<account>:key/<key-id> (an alias ARN does not name a key in IAM).")
    rules_path = key_path(keep_path, "lifecycle")
    rules = read_objects(p, rules_path, read_list(p, keep_path, raw, "lifecycle", KEEP_DEFAULTS), "lifecycle rule",
                         read_rule)
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        if rule.rule_id in seen:
            p.add(key_path(key_path(rules_path, index), "id"), rule.rule_id, "is the id of another kept rule",
                  "Give each kept rule its own id.")
        seen.add(rule.rule_id or "")
    return KeepSettings(policy_statements=tuple(s for s in statements if isinstance(s, dict)),
                        lifecycle=tuple(rules), kms_key_arns=tuple(keys))


def check_kept_rule_ids(p: Problems, path: str, own: tuple[str, ...], keep: KeepSettings) -> None:
    """A kept rule may not take an id the stack gives its own rules (S3 refuses two rules with one id)."""
    for index, rule in enumerate(keep.lifecycle):
        if rule.rule_id in own:
            p.add(key_path(key_path(key_path(path, "keep"), "lifecycle"), index) + ".id", rule.rule_id,
                  "is the id of one of the stack's own rules for this bucket", "Rename the kept rule.")


def adoption_warnings(path: str, adopt: bool, protect_data: bool, replicated: bool) -> list[str]:
    if not adopt:
        return []
    warnings = []
    if not protect_data:
        warnings.append(f"{key_path(path, 'adopt')}: the adopted bucket stays protected and retained although "
                        f"{NAMESPACE}:protectData is false: it holds data this stack did not create.")
    if replicated:
        warnings.append(f"{key_path(path, 'adopt')}: replication copies new writes only; the objects the bucket "
                        "already holds reach the replica only through S3 Batch Replication.")
    return warnings


def _strings(value: Any) -> bool:
    return (isinstance(value, str) and bool(value)) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, str) and v for v in value))


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]
