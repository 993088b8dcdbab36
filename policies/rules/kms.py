"""KMS customer keys."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from .common import (
    MANDATORY,
    UNKNOWN,
    Finding,
    Rule,
    dependencies_of,
    described,
    is_true,
    restricting_condition,
    statements,
    value,
)
from .stack import StackView

KMS_KEY = "aws:kms/key:Key"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
"""pulumi-aws's separate key policy resource (aws_kms_key_policy): the policy of the key its `keyId` names."""
AWS_DEFAULT_DELETION_WINDOW_DAYS = 30
"""What AWS waits before deleting a key when deletionWindowInDays is not set."""


def _keys(resource: Any) -> bool:
    return resource.resource_type == KMS_KEY


def _holds_a_key_policy(resource: Any) -> bool:
    return resource.resource_type in (KMS_KEY, KEY_POLICY)


def rotation_enabled(resource: Any, _config: Mapping) -> Iterator[str]:
    if not _keys(resource):
        return
    spec = value(resource.props, "customerMasterKeySpec") or value(resource.props, "keySpec") or "SYMMETRIC_DEFAULT"
    if spec == "SYMMETRIC_DEFAULT" and not is_true(value(resource.props, "enableKeyRotation")) \
            and value(resource.props, "enableKeyRotation") is not UNKNOWN:
        yield f"{described(resource)} must rotate its key material yearly (enableKeyRotation)"


def deletion_window(resource: Any, config: Mapping) -> Iterator[str]:
    if not _keys(resource):
        return
    days = value(resource.props, "deletionWindowInDays", default=AWS_DEFAULT_DELETION_WINDOW_DAYS)
    minimum = int(config.get("minimumDays", AWS_DEFAULT_DELETION_WINDOW_DAYS))
    if isinstance(days, (int, float)) and days < minimum:
        yield f"{described(resource)} must wait at least {minimum} days before deletion; it waits {int(days)}"


def explicit_key_policy(stack: StackView, _config: Mapping) -> Iterator[Finding]:
    """A key's policy is its own `policy` input, or a KeyPolicy whose `keyId` depends on the key (a program passes
    `key.id` or `key.arn`; the value is the key's id offline and unknown in a preview of a new key)."""
    governed = {dependency.urn for key_policy in stack.of_type(KEY_POLICY) if value(key_policy.props, "policy")
                for dependency in dependencies_of(key_policy, "keyId")}
    for key in stack.of_type(KMS_KEY):
        if not value(key.props, "policy") and key.urn not in governed:
            yield Finding(key.urn, f"{described(key)} must declare its key policy, in policy= or an "
                                   "aws.kms.KeyPolicy (the default grants the whole account)", (key,))


def no_wildcard_principal(resource: Any, _config: Mapping) -> Iterator[str]:
    if not _holds_a_key_policy(resource):
        return
    for statement in statements(value(resource.props, "policy")):
        if statement.allows and statement.anonymous and not restricting_condition(statement):
            yield f"{described(resource)}: {statement.label} must not allow every principal (*) to use the key"


def no_lockout_bypass(resource: Any, _config: Mapping) -> Iterator[str]:
    if _holds_a_key_policy(resource) and is_true(value(resource.props, "bypassPolicyLockoutSafetyCheck")):
        yield f"{described(resource)} must not bypass the key policy lockout safety check"


RULES = (
    Rule("kms-key-rotation", "Checks whether each symmetric KMS key rotates its key material",
         ("CIS v3.0.0 3.6", "CKV_AWS_7"), "Set enable_key_rotation=True on aws.kms.Key.",
         Severity.MEDIUM, MANDATORY, rotation_enabled),
    Rule("kms-deletion-window", "Checks whether each KMS key waits long enough before deletion to undo a mistake",
         ("FSBP KMS.3",), "Set deletion_window_in_days to at least the configured minimum (default 30).",
         Severity.MEDIUM, MANDATORY, deletion_window,
         config={"minimumDays": {"type": "integer", "minimum": 7, "maximum": 30,
                                 "default": AWS_DEFAULT_DELETION_WINDOW_DAYS,
                                 "description": "Fewest days a scheduled key deletion may wait (AWS allows 7-30)."}}),
    Rule("kms-explicit-key-policy", "Checks whether each KMS key declares its key policy", ("CKV2_AWS_64",),
         "Pass policy= to aws.kms.Key (or declare an aws.kms.KeyPolicy for it) with the principals that administer "
         "and use the key.", Severity.MEDIUM, MANDATORY, explicit_key_policy, stack=True),
    Rule("kms-no-wildcard-principal", "Checks whether a KMS key policy lets every principal use the key",
         ("CKV_AWS_33",), "Name the principals, or add a restricting condition (kms:CallerAccount, aws:SourceArn).",
         Severity.CRITICAL, MANDATORY, no_wildcard_principal),
    Rule("kms-no-lockout-bypass", "Checks whether a KMS key bypasses the policy lockout safety check", (),
         "Remove bypass_policy_lockout_safety_check (or set it false).",
         Severity.HIGH, MANDATORY, no_lockout_bypass),
)
