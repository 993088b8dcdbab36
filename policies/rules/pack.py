"""Rules as the policy SDK's policies: config schema with defaults, exceptions, violation reporting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

from .common import Finding, Rule
from .exceptions import EXCEPTIONS_SCHEMA, HAS_REASON, STACK_KEY, WAIVED_NOTES, judge
from .stack import StackView

UNWAIVABLE = frozenset({HAS_REASON, *WAIVED_NOTES})


def config_properties(rule: Rule) -> dict[str, Mapping[str, Any]]:
    """The rule's config schema: its own properties, plus `exceptions` for every rule that can be waived."""
    properties = dict(rule.config)
    if rule.name not in UNWAIVABLE:
        properties["exceptions"] = EXCEPTIONS_SCHEMA
    return properties


def effective_config(rule: Rule, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """Schema defaults under the given config. The engine fills defaults in before Configure; a rule called
    without the engine (a test, a library user) gets the same values."""
    config = {key: schema["default"] for key, schema in config_properties(rule).items() if "default" in schema}
    config.update(given or {})
    return config


def resource_violations(rule: Rule, resource: Any, given: Mapping[str, Any] | None = None) -> list[str]:
    """What `rule` reports for one resource, exceptions applied (waived violations go to the notes)."""
    config = effective_config(rule, given)
    reported = []
    for message in rule.check(resource, config):
        if rule.name in UNWAIVABLE:
            reported.append(message)
        elif (kept := judge(rule.name, message, (resource,), config, resource.urn, resource.urn)) is not None:
            reported.append(kept)
    return reported


def stack_violations(rule: Rule, resources: list[Any] | StackView,
                     given: Mapping[str, Any] | None = None) -> list[Finding]:
    """`resources`: the stack's, or their StackView, built once by a caller that runs every stack rule over one list
    (building the indexes is most of what a stack rule costs)."""
    config = effective_config(rule, given)
    reported = []
    view = resources if isinstance(resources, StackView) else StackView(resources)
    for finding in rule.check(view, config):
        if rule.name in UNWAIVABLE:
            reported.append(finding)
        elif (kept := judge(rule.name, finding.message, finding.waivable_on, config, STACK_KEY,
                                   finding.urn)) is not None:
            reported.append(Finding(finding.urn, kept))
    return reported


def _description(rule: Rule) -> str:
    return f"{rule.description} ({', '.join(rule.controls)})" if rule.controls else rule.description


def as_policy(rule: Rule) -> Policy:
    properties = {key: dict(schema) for key, schema in config_properties(rule).items()}
    schema = PolicyConfigSchema(properties=properties) if properties else None
    common: dict[str, Any] = dict(
        description=_description(rule), enforcement_level=rule.level, config_schema=schema, severity=rule.severity,
        remediation_steps=rule.remediation, tags=list(rule.controls) or None)
    if rule.stack:
        def validate_stack(args, report_violation) -> None:
            for finding in stack_violations(rule, list(args.resources), args.get_config()):
                report_violation(finding.message, finding.urn or None)
        return StackValidationPolicy(name=rule.name, validate=validate_stack, **common)

    def validate_resource(args, report_violation) -> None:
        for message in resource_violations(rule, args, args.get_config()):
            report_violation(message)
    return ResourceValidationPolicy(name=rule.name, validate=validate_resource, **common)
