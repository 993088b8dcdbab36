"""storage-guard's rules, importable without starting the policy pack's server (the pack's `__main__.py` does
that). `RULES` is in evaluation order: the two rules that report waived violations come last."""

from __future__ import annotations

from . import cloudfront, identity, kms, minio, s3
from .common import Rule
from .exceptions import exception_rules

PACK_NAME = "storage-guard"

_CHECKS: tuple[Rule, ...] = (*s3.RULES, *identity.RULES, *kms.RULES, *cloudfront.RULES, *minio.RULES)
_HAS_REASON, _NOTES, _STACK_NOTES = exception_rules(rule.name for rule in _CHECKS)

RULES: tuple[Rule, ...] = (*_CHECKS, _HAS_REASON, _NOTES, _STACK_NOTES)
BY_NAME = {rule.name: rule for rule in RULES}
