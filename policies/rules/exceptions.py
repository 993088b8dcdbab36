"""Recorded exceptions: how a resource opts out of one rule, with a reason, and how the opt-out stays visible.

An exception names one rule and gives a reason. It is recorded either
- on the resource, as the tag `policy-exception:<rule>` whose value is the reason (for a bucket setting, the
  bucket's tags count too), or
- in the rule's config, `exceptions: [{resource, reason}]`, where `resource` is a glob matched against the
  resource's name, its URN, or the bucket name it configures.
A violation with an exception that gives a reason is waived: it no longer blocks, and the advisory rules
`waived-violations` / `waived-stack-violations` (evaluated last) report it with the reason. An exception without a
reason waives nothing, and the rule `policy-exception-has-reason` reports it.
"""

from __future__ import annotations

import fnmatch
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from .common import ADVISORY, MANDATORY, Finding, Rule, is_map, value

TAG_PREFIX = "policy-exception:"
HAS_REASON = "policy-exception-has-reason"
WAIVED_NOTES = ("waived-violations", "waived-stack-violations")
"""The rules that report waived violations (resource and stack); they and HAS_REASON cannot be waived."""
STACK_KEY = "<stack>"

EXCEPTIONS_SCHEMA = {
    "type": "array",
    "default": [],
    "description": "Resources this rule does not apply to, each with the reason (a name, URN or bucket-name glob).",
    "items": {
        "type": "object",
        "required": ["resource", "reason"],
        "additionalProperties": False,
        "properties": {
            "resource": {"type": "string", "minLength": 1},
            "reason": {"type": "string", "minLength": 1, "pattern": r"\S"},
        },
    },
}


def _matches(pattern: str, resource: Any) -> bool:
    names = [resource.name, resource.urn]
    bucket = value(resource.props, "bucket")
    if isinstance(bucket, str):
        names.append(bucket)
    return any(fnmatch.fnmatchcase(name, pattern) for name in names if isinstance(name, str))


def recorded_reasons(rule: str, subjects: Iterable[Any], config: Mapping[str, Any]) -> list[str]:
    """The reasons of every exception to `rule` recorded for any of `subjects` ("" where one gives none)."""
    reasons = []
    entries = [entry for entry in config.get("exceptions") or [] if is_map(entry)]
    for subject in subjects:
        tags = value(subject.props, "tags")
        if is_map(tags) and TAG_PREFIX + rule in tags:
            reason = value(tags, TAG_PREFIX + rule, default="")
            reasons.append(reason.strip() if isinstance(reason, str) else "")
        for entry in entries:
            if isinstance(entry.get("resource"), str) and _matches(entry["resource"], subject):
                reasons.append(str(entry.get("reason") or "").strip())
    return reasons


class WaivedViolations:
    """Violations waived while one resource (or the stack) is analyzed, until the notes rule reports them.

    Keyed by URN: the pack's server may analyze several resources at once, each request in its own thread, and the
    notes rule runs last within the same request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waived: dict[str, list[tuple[str, str]]] = defaultdict(list)

    def add(self, key: str, urn: str, note: str) -> None:
        with self._lock:
            self._waived[key].append((urn, note))

    def pop(self, key: str) -> list[tuple[str, str]]:
        with self._lock:
            return self._waived.pop(key, [])


WAIVED = WaivedViolations()


def judge(rule: str, message: str, subjects: Iterable[Any], config: Mapping[str, Any], key: str,
          urn: str) -> str | None:
    """The message to report for a violation on `urn`, or None where a reasoned exception waives it (kept as a
    note under `key`: the resource's URN, or STACK_KEY for stack rules)."""
    reasons = recorded_reasons(rule, subjects, config)
    reasoned = [reason for reason in reasons if reason]
    if reasoned:
        WAIVED.add(key, urn, f"{rule} waived ({'; '.join(reasoned)}): {message}")
        return None
    if reasons:
        return f"{message} (the exception recorded for it gives no reason, so it does not apply)"
    return message


def _waived_notes(resource: Any, _config: Mapping) -> Iterator[str]:
    for _, note in WAIVED.pop(resource.urn):
        yield note


def _waived_stack_notes(_stack: Any, _config: Mapping) -> Iterator[Finding]:
    for urn, note in WAIVED.pop(STACK_KEY):
        yield Finding(urn, note)


def _reasonless_tags(known_rules: frozenset[str]):
    def check(resource: Any, _config: Mapping) -> Iterator[str]:
        tags = value(resource.props, "tags")
        if not is_map(tags):
            return
        for key in tags:
            if not isinstance(key, str) or not key.startswith(TAG_PREFIX):
                continue
            rule = key[len(TAG_PREFIX):]
            reason = value(tags, key, default="")
            if rule not in known_rules:
                yield (f"tag {key!r} must name a rule of this pack; {rule!r} is none "
                       f"(known: {', '.join(sorted(known_rules))})")
            elif not isinstance(reason, str) or not reason.strip():
                yield f"tag {key!r} must give the reason for the exception as its value"
    return check


def exception_rules(known_rules: Iterable[str]) -> tuple[Rule, Rule, Rule]:
    """The rule about exceptions themselves, and the two that report waived violations (kept last in the pack)."""
    known = frozenset(known_rules) | {HAS_REASON}
    has_reason = Rule(
        name=HAS_REASON,
        description="Checks whether every exception recorded on a resource names a rule of this pack and gives a "
                    "reason",
        controls=(),
        remediation="Set the tag `policy-exception:<rule>` to the reason the rule does not apply, or remove it.",
        severity=Severity.MEDIUM, level=MANDATORY, check=_reasonless_tags(known))
    notes = Rule(
        name=WAIVED_NOTES[0],
        description="Checks whether a resource has violations that a recorded exception waives (reported, never "
                    "blocking)",
        controls=(),
        remediation="Review each waived violation and its reason; remove the exception once it no longer applies.",
        severity=Severity.LOW, level=ADVISORY, check=_waived_notes)
    stack_notes = Rule(
        name=WAIVED_NOTES[1],
        description="Checks whether the stack has violations that a recorded exception waives (reported, never "
                    "blocking)",
        controls=(),
        remediation="Review each waived violation and its reason; remove the exception once it no longer applies.",
        severity=Severity.LOW, level=ADVISORY, check=_waived_stack_notes, stack=True)
    return has_reason, notes, stack_notes
