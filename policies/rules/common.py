"""What every rule shares: the rule record, safe reads of resource properties, and policy documents.

Properties arrive as the policy SDK hands them over: read-only mappings and sequences (not `dict`/`list`), and
during `pulumi preview` any value may be unknown, which raises when touched. `value` reads through both, so a
rule never aborts on a value the engine does not know yet: an unknown reads as `UNKNOWN` and the rule judges
only what is known.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import EnforcementLevel, Severity
from pulumi_policy.proxy import UnknownValueError

UNKNOWN = object()
"""A value the engine does not know yet (a preview of a resource that does not exist)."""

ADVISORY = EnforcementLevel.ADVISORY
MANDATORY = EnforcementLevel.MANDATORY


@dataclass(frozen=True)
class Rule:
    """One policy of the pack, before the SDK wraps it.

    `check` takes (resource, config) for a resource rule and yields violation messages; for a stack rule it takes
    (StackView, config) and yields `Finding`s. `controls` are the benchmark ids the rule implements.
    """

    name: str
    description: str
    controls: tuple[str, ...]
    remediation: str
    severity: Severity
    level: EnforcementLevel
    check: Callable[..., Iterable[Any]]
    stack: bool = False
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """JSON-schema properties of the rule's own config, each with its `default`."""


@dataclass(frozen=True)
class Finding:
    """A stack rule's violation: the resource it is reported on, and the resources whose exceptions can waive it
    (a bucket setting's sibling and the bucket itself)."""

    urn: str
    message: str
    waivable_on: tuple[Any, ...] = ()


def is_map(candidate: Any) -> bool:
    return isinstance(candidate, Mapping)


def is_list(candidate: Any) -> bool:
    return isinstance(candidate, Sequence) and not isinstance(candidate, (str, bytes))


def value(container: Any, *path: str | int, default: Any = None) -> Any:
    """`container[path[0]][path[1]]…`, or `default` where a step is missing, or UNKNOWN where one is unknown."""
    current = container
    try:
        for step in path:
            if isinstance(step, int):
                if not is_list(current) or not -len(current) <= step < len(current):
                    return default
                current = current[step]
            else:
                if not is_map(current) or step not in current:
                    return default
                current = current[step]
    except UnknownValueError:
        return UNKNOWN
    return default if current is None else current


def dependencies_of(resource: Any, name: str) -> list[Any]:
    """The resources the resource's input `name` depends on, as the policy SDK gives the engine's property
    dependencies (keyed by top-level input name); none where the resource records none."""
    return list((getattr(resource, "property_dependencies", None) or {}).get(name, []))


def bucket_label(bucket: Any) -> str:
    """How a message names a bucket: its `bucket` name where known, else its resource name."""
    name = value(bucket.props, "bucket")
    return f"bucket {name!r}" if isinstance(name, str) else f"bucket {bucket.name!r}"


def items(container: Any, *path: str) -> list:
    """The list at `path` (a missing or unknown list is empty; a lone object is a list of one)."""
    found = value(container, *path, default=[])
    if found is UNKNOWN:
        return []
    if is_map(found):
        return [found]
    if not is_list(found):
        return []
    result = []
    for index in range(len(found)):
        element = value(found, index)
        if element is not UNKNOWN and element is not None:
            result.append(element)
    return result


def is_true(candidate: Any) -> bool:
    return candidate is True or (isinstance(candidate, str) and candidate.lower() == "true")


def as_strings(candidate: Any) -> list[str]:
    """A policy document field that may be one string or a list of them."""
    if isinstance(candidate, str):
        return [candidate]
    if is_list(candidate):
        return [element for element in candidate if isinstance(element, str)]
    return []


# --- policy documents ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    principals: tuple[str, ...]
    """Every principal value (AWS, Service, Federated, CanonicalUser, or the bare "*"); empty when none."""
    has_principal: bool
    conditions: Mapping[str, Any]
    sid: str

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    @property
    def label(self) -> str:
        return f"statement {self.sid!r}" if self.sid else "a statement"

    @property
    def anonymous(self) -> bool:
        """Granted to everyone: a `*` principal (bare or as an AWS principal)."""
        return "*" in self.principals


def policy_document(raw: Any) -> Mapping | None:
    """A policy property as a document: JSON text or an object. None where unknown or unreadable."""
    if raw is UNKNOWN or raw is None:
        return None
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return raw if is_map(raw) else None


def statements(raw: Any) -> list[Statement]:
    document = policy_document(raw)
    if document is None:
        return []
    result = []
    for entry in items(document, "Statement"):
        if not is_map(entry):
            continue
        principal = value(entry, "Principal")
        principals: list[str] = []
        if isinstance(principal, str):
            principals = [principal]
        elif is_map(principal):
            for kind in principal:
                principals += as_strings(value(principal, kind))
        condition = value(entry, "Condition", default={})
        result.append(Statement(
            effect=str(value(entry, "Effect", default="")),
            actions=tuple(as_strings(value(entry, "Action"))),
            not_actions=tuple(as_strings(value(entry, "NotAction"))),
            resources=tuple(as_strings(value(entry, "Resource"))) + tuple(as_strings(value(entry, "NotResource"))),
            principals=tuple(principals),
            has_principal="Principal" in entry or "NotPrincipal" in entry,
            conditions=condition if is_map(condition) else {},
            sid=str(value(entry, "Sid", default="")),
        ))
    return result


RESTRICTING_CONDITION_KEYS = frozenset(key.lower() for key in (
    "aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner", "aws:PrincipalOrgID", "aws:PrincipalAccount",
    "aws:PrincipalArn", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceIp", "aws:userid", "aws:username",
    "kms:CallerAccount", "kms:ViaService", "aws:ResourceOrgID", "aws:PrincipalOrgPaths",
))
"""Condition keys that narrow who may use a grant: a `*` principal with one of these is not public."""


def restricting_condition(statement: Statement) -> bool:
    return any(key.lower() in RESTRICTING_CONDITION_KEYS
               for operator in statement.conditions.values() if is_map(operator) for key in operator)


def wildcard_actions(statement: Statement) -> list[str]:
    """`*`, and `<service>:*` (or `<service>:` plus only wildcards) for any service."""
    found = []
    for action in statement.actions:
        if action == "*":
            found.append(action)
            continue
        service, _, verb = action.partition(":")
        if verb and set(verb) == {"*"}:
            found.append(action)
    return found


def bucket_name_of_arn(arn: str) -> str | None:
    """`arn:aws:s3:::name` or `arn:aws:s3:::name/key…` -> name."""
    prefix = "arn:aws:s3:::"
    if not arn.startswith(prefix):
        return None
    return arn[len(prefix):].split("/", 1)[0] or None


def object_prefix_of_arn(arn: str) -> str | None:
    """The key pattern an object ARN covers (`media/*`), or None for a bucket ARN."""
    rest = arn[len("arn:aws:s3:::"):] if arn.startswith("arn:aws:s3:::") else arn
    return rest.split("/", 1)[1] if "/" in rest else None


def described(resource: Any) -> str:
    return f"{resource.resource_type} {resource.name!r}"


def unique(values: Iterable[str]) -> Iterator[str]:
    seen: set[str] = set()
    for entry in values:
        if entry not in seen:
            seen.add(entry)
            yield entry
