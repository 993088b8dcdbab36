"""The change model: what `pulumi up` will do to a deployed stack, step by step, in the engine's order.

Given the plan of what is deployed (BASE: a plan JSON saved from the deployed commit) and the plan of this
checkout, it lists the engine's steps and names the hazards among them. The order is the engine's
(pulumi/pulumi `pkg/resource/deploy`, read at v3.259):

- While the program runs, each registration's steps run as it arrives (`deployment_executor.go`,
  `handleSingleEvent` -> `step_generator.go` `GenerateSteps`). A resource registers only once its inputs, and so
  its dependencies, have resolved; so the model takes the new plan in dependency order (parents, `dependsOn` and
  property dependencies first; the engine runs independent chains in parallel, the model lists them by URN).
  - A resource not in BASE is created; one whose inputs differ is updated, or replaced where a changed input
    forces it (`provider_rules.FORCE_NEW`), where `replaceOnChanges` names it, or where its
    `replacementTrigger` changed (`shouldTriggerReplace`: a trigger missing on either side never replaces).
  - A replacement creates before it deletes (`continueStepsFromDiff`: `CreateReplacement` now, the old
    resource marked pending-delete and deleted with the deletes at the end), unless `deleteBeforeReplace`: then
    the old one is deleted first and the new one created in the same chain.
  - Replacing a protected resource (protected in BASE and in the program) stops the update there
    (`BailErrorf`: no later step, no deletes).
- After the program, `performPostSteps` deletes what is no longer declared and the replaced originals
  (`GenerateDeletes`), scheduled by `ScheduleDeletes` in reverse dependency order: dependents first. Deleting a
  protected resource fails (`deleteProtectedError`) and the engine goes on with the others.
- `retainOnDelete` (read from BASE) makes a delete leave the cloud resource in place (`DeleteStep.Apply`).

Hazards, each a line with its fix, and a non-zero exit: a protected resource replaced or deleted, a bucket
replaced or deleted (its data), more than two access keys for one IAM user at any step (IAM's quota), two live
resources sharing one physical name at any step, and the key an app's `.env` holds deleted by the update.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cli import provider_rules
from cli.offline import BUCKET_TYPES, UNKNOWN_MARK

ACCESS_KEY = "aws:iam/accessKey:AccessKey"
MAX_KEYS_PER_USER = 2
"""IAM's quota of access keys per user ("Access keys assigned to an IAM user: 2", IAM and AWS STS quotas)."""

PROGRAM, AFTER = "program", "after"
"""When a step runs: while the program registers resources, or after it, with the deletes."""


class ChangeError(Exception):
    """The BASE plan cannot be read; the message says why and what to give instead."""


@dataclass(frozen=True)
class Resource:
    """One resource of a plan, as the model needs it."""

    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict
    options: dict
    parent: str | None = None
    id: str = ""

    @property
    def physical_name(self) -> str | None:
        key = provider_rules.PHYSICAL_NAMES.get(self.type)
        value = self.inputs.get(key) if key else None
        return value if isinstance(value, str) and value != UNKNOWN_MARK else None

    @property
    def dependencies(self) -> set[str]:
        deps = set(self.options.get("dependsOn") or [])
        if self.parent:
            deps.add(self.parent)
        return deps

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)


@dataclass(frozen=True)
class Step:
    op: str
    """create | update | replace (create-before-delete: the replacement is created now) |
    delete-replaced (an original, deleted) | create-replacement (after its original was deleted) | delete."""
    resource: Resource
    phase: str
    why: str = ""

    def as_dict(self) -> dict:
        return {"op": self.op, "urn": self.resource.urn, "type": self.resource.type, "name": self.resource.name,
                "phase": self.phase, **({"why": self.why} if self.why else {}),
                **({"physicalName": self.resource.physical_name} if self.resource.physical_name else {})}


@dataclass(frozen=True)
class Hazard:
    kind: str
    """protected | data | access-keys | physical-name | current-key"""
    urn: str
    message: str
    step: int
    """The 1-based number of the step it happens at."""

    def as_dict(self) -> dict:
        return {"kind": self.kind, "urn": self.urn, "step": self.step, "message": self.message}


@dataclass
class Change:
    stack: str
    steps: list[Step]
    unchanged: int
    hazards: list[Hazard] = field(default_factory=list)
    stops_at: int | None = None
    """The step at which the engine stops the update (a protected resource replaced), 1-based."""
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"stack": self.stack, "steps": [s.as_dict() for s in self.steps], "unchanged": self.unchanged,
                "stopsAt": self.stops_at, "hazards": [h.as_dict() for h in self.hazards], "notes": self.notes}


# --- reading plans --------------------------------------------------------------------------------------------


def resources_of(document: dict) -> list[Resource]:
    return [Resource(urn=r["urn"], type=r["type"], name=r["name"], custom=bool(r.get("custom", True)),
                     inputs=r.get("inputs") or {}, options=r.get("options") or {}, parent=r.get("parent"),
                     id=r.get("id") or "")
            for r in document.get("resources", [])]


def read_base(path: Path, stack: str) -> dict:
    """A plan JSON of `stack` (`make -s plan FORMAT=json`), as saved from the deployed commit."""
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise ChangeError(f"BASE={path}: no such file; save the deployed commit's plan with "
                          "`make -s plan STACK=<stack> FORMAT=json > deployed.json`") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ChangeError(f"BASE={path}: not a plan JSON ({error})") from None
    resources = document.get("resources") if isinstance(document, dict) else None
    if not isinstance(resources, list) or not all(
            isinstance(r, dict) and {"urn", "type", "name"} <= set(r) for r in resources):
        raise ChangeError(f"BASE={path}: not a plan JSON (no `resources` list of urn/type/name records); give the "
                          "output of `make -s plan STACK=<stack> FORMAT=json` at the deployed commit")
    if document.get("stack") not in (None, stack):
        raise ChangeError(f"BASE={path} is a plan of stack {document['stack']!r}, not {stack!r}: every URN names its "
                          f"stack, so nothing would match; give the deployed plan of {stack}")
    return document


# --- diffs ----------------------------------------------------------------------------------------------------


def _changed_inputs(old: Resource, new: Resource) -> list[str]:
    ignored = set(new.option("ignoreChanges") or [])
    return sorted(key for key in set(old.inputs) | set(new.inputs)
                  if key not in ignored and (old.inputs.get(key) != new.inputs.get(key)
                                             or new.inputs.get(key) == UNKNOWN_MARK))


def _trigger_replaces(old: Resource, new: Resource) -> bool:
    """`shouldTriggerReplace`: unknown on either side replaces; a trigger missing on either side never does."""
    before, after = old.option("replacementTrigger"), new.option("replacementTrigger")
    if UNKNOWN_MARK in (before, after):
        return True
    if before is None or after is None:
        return False
    return before != after


def replacement_reasons(old: Resource, new: Resource) -> tuple[list[str], list[str]]:
    """(what forces a replacement, the inputs that change): empty reasons mean an update, or nothing."""
    changed = _changed_inputs(old, new)
    reasons = []
    if _trigger_replaces(old, new):
        reasons.append(f"replacement trigger {json.dumps(old.option('replacementTrigger'))} -> "
                       f"{json.dumps(new.option('replacementTrigger'))}")
    forced = provider_rules.FORCE_NEW.get(new.type, ())
    on_changes = set(new.option("replaceOnChanges") or [])
    reasons += [f"`{key}` changes" + (" (replaceOnChanges)" if key not in forced else "")
                for key in changed if key in forced or key in on_changes or "*" in on_changes]
    return reasons, changed


# --- the engine's order ---------------------------------------------------------------------------------------


def _dependency_order(resources: list[Resource]) -> list[Resource]:
    """A registration order the engine can see: every resource after what it depends on; ties by URN."""
    by_urn = {r.urn: r for r in resources}
    placed: set[str] = set()
    ordered: list[Resource] = []

    def place(resource: Resource, visiting: frozenset[str]) -> None:
        if resource.urn in placed or resource.urn in visiting:
            return
        for dep in sorted(resource.dependencies):
            if dep in by_urn:
                place(by_urn[dep], visiting | {resource.urn})
        placed.add(resource.urn)
        ordered.append(resource)

    for resource in sorted(resources, key=lambda r: r.urn):
        place(resource, frozenset())
    return ordered


def _delete_order(condemned: list[Resource], base: dict[str, Resource]) -> list[Resource]:
    """`ScheduleDeletes`: antichains of condemned resources with no condemned dependency left, reversed, so
    dependents go before what they depend on; each antichain by URN (the engine runs it in parallel)."""
    def reaches(urn: str) -> set[str]:
        seen: set[str] = set()
        todo = [urn]
        while todo:
            for dep in base[todo.pop()].dependencies:
                if dep in base and dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return seen

    urns = {r.urn for r in condemned}
    closure = {r.urn: reaches(r.urn) & (urns - {r.urn}) for r in condemned}
    remaining = {r.urn: r for r in condemned}
    antichains: list[list[Resource]] = []
    while remaining:
        chain = [r for urn, r in remaining.items() if not closure[urn] & set(remaining)]
        chain = chain or list(remaining.values())  # a deployed state has no cycle; never loop on one
        antichains.append(sorted(chain, key=lambda r: r.urn))
        for r in chain:
            remaining.pop(r.urn)
    return [r for chain in reversed(antichains) for r in chain]


def steps_of(base: list[Resource], new: list[Resource]) -> tuple[list[Step], int, dict[str, str]]:
    """The engine's steps from `base` to `new`, the number of resources left as they are, and which new URN
    claimed which base URN (by URN, then by its first alias present in BASE: `getOldResource`)."""
    olds = {r.urn: r for r in base}
    claimed: dict[str, str] = {}
    steps: list[Step] = []
    pending_deletes: list[Resource] = []
    unchanged = 0
    for resource in _dependency_order(new):
        old_urn = next((urn for urn in (resource.urn, *resource.option("aliases", ())) if urn in olds
                        and urn not in claimed.values()), None)
        if old_urn is None:
            if resource.custom:
                steps.append(Step("create", resource, PROGRAM))
            continue
        claimed[resource.urn] = old_urn
        old = olds[old_urn]
        if not resource.custom:
            continue
        reasons, changed = replacement_reasons(old, resource)
        if reasons:
            why = "; ".join(reasons)
            if resource.option("deleteBeforeReplace"):
                steps.append(Step("delete-replaced", old, PROGRAM, f"delete-before-replace: {why}"))
                steps.append(Step("create-replacement", resource, PROGRAM, why))
            else:
                steps.append(Step("replace", resource, PROGRAM, f"create-before-delete: {why}"))
                pending_deletes.append(old)
        elif changed:
            steps.append(Step("update", resource, PROGRAM, ", ".join(changed)))
        else:
            unchanged += 1
    gone = [r for r in base if r.urn not in claimed.values()]
    replaced = {r.urn for r in pending_deletes}
    for resource in _delete_order([*pending_deletes, *gone], olds):
        if not resource.custom:
            continue
        replaced_original = resource.urn in replaced
        steps.append(Step("delete-replaced" if replaced_original else "delete", resource, AFTER,
                          "the original of a replacement" if replaced_original else "no longer declared"))
    return steps, unchanged, claimed


# --- hazards --------------------------------------------------------------------------------------------------


def live_keys(document: dict) -> dict[str, tuple[str, int, bool]]:
    """Each app's live access keys in a plan, by the URN of their resource: {urn: (app, generation, current)}.
    Found by the id the outputs name (`<app>.access_keys`); a plan saved before ids were recorded gives none."""
    by_id = {r.id: r for r in resources_of(document) if r.type == ACCESS_KEY and r.id}
    found = {}
    for app, output in sorted((document.get("outputs") or {}).items()):
        for key in (output.get("access_keys") or []) if isinstance(output, dict) else []:
            resource = by_id.get(key.get("access_key_id"))
            if resource:
                found[resource.urn] = (app, key.get("generation"), bool(key.get("current")))
    return found


def _keeps_keys(document: dict, app: str) -> bool:
    return bool(((document.get("outputs") or {}).get(app) or {}).get("access_keys"))


class _Live:
    """What exists in the cloud at each step: instances of resources, by (side, URN); retained ones stay."""

    def __init__(self, base: list[Resource]):
        self.instances: dict[tuple[str, str], Resource] = {("base", r.urn): r for r in base if r.custom}

    def apply(self, step: Step, claimed: dict[str, str]) -> None:
        resource = step.resource
        if step.op in ("create", "replace", "create-replacement"):
            self.instances[("new", resource.urn)] = resource
        elif step.op == "update":
            self.instances[("base", claimed[resource.urn])] = resource
        elif not resource.option("retainOnDelete"):  # a retained resource stays in the account
            self.instances.pop(("base", resource.urn), None)

    def keys_per_user(self) -> dict[str, list[Resource]]:
        users: dict[str, list[Resource]] = {}
        for resource in self.instances.values():
            if resource.type == ACCESS_KEY:
                users.setdefault(str(resource.inputs.get("user")), []).append(resource)
        return users

    def shared_names(self) -> Iterator[tuple[str, str, list[Resource]]]:
        named: dict[tuple[str, str], list[Resource]] = {}
        for resource in self.instances.values():
            name = resource.physical_name
            if name:
                key = name.lower() if resource.type in provider_rules.CASE_INSENSITIVE_NAMES else name
                named.setdefault((resource.type, key), []).append(resource)
        for (token, name), holders in sorted(named.items()):
            if len(holders) > 1:
                yield token, name, holders


def _bucket_hazard(step: Step) -> str:
    bucket = step.resource.physical_name or step.resource.name
    if step.resource.option("retainOnDelete"):
        return (f"bucket {bucket} ({step.resource.name}) leaves the stack with its data (retained on delete): the app "
                "is pointed at a new, empty bucket. Keep the bucket's name and settings that force a replacement "
                "as deployed, or copy its objects first")
    if step.resource.inputs.get("forceDestroy") is True:
        return (f"bucket {bucket} ({step.resource.name}) is deleted with every object in it (forceDestroy): its data "
                "is gone. Keep the bucket's name as deployed, or copy its objects to the new bucket first")
    return (f"bucket {bucket} ({step.resource.name}) is deleted: S3 refuses while it holds objects (BucketNotEmpty) "
            "and the update fails there; an empty one is gone. Keep the bucket's name as deployed")


def hazards_of(steps: list[Step], base: list[Resource], claimed: dict[str, str], base_document: dict,
               new_document: dict) -> tuple[list[Hazard], int | None]:
    """Walk the steps over what exists, naming each hazard once, at the step it happens."""
    hazards: list[Hazard] = []
    stops_at = None
    live = _Live(base)
    olds = {r.urn: r for r in base}
    current_keys = {urn: (app, generation) for urn, (app, generation, current) in live_keys(base_document).items()
                    if current}
    seen_pairs: set[tuple[str, ...]] = set()
    over_quota: set[str] = set()
    for number, step in enumerate(steps, 1):
        resource = step.resource
        replacing = step.op in ("replace", "delete-replaced") and step.phase == PROGRAM
        if replacing:
            old = olds[claimed.get(resource.urn, resource.urn)]
            new_protect = resource.option("protect") if step.op == "replace" else _new_protect(resource, claimed,
                                                                                              steps)
            if old.option("protect") and new_protect:
                hazards.append(Hazard("protected", old.urn, (
                    f"{old.type} {old.name} is protected and would be replaced ({step.why.split(': ', 1)[-1]}): the "
                    "engine stops the update here, after the steps before it. Keep what forces the replacement as "
                    "deployed, or unprotect it on purpose first"), number))
                stops_at = stops_at or number
        elif step.op == "delete" and resource.option("protect"):
            hazards.append(Hazard("protected", resource.urn, (
                f"{resource.type} {resource.name} is protected and no longer declared: deleting it fails "
                "(the engine goes on with the other deletes, then fails the update). Declare it again, or run "
                "`pulumi state unprotect` on purpose first"), number))
        if resource.type in BUCKET_TYPES and step.op in ("delete", "delete-replaced"):
            hazards.append(Hazard("data", resource.urn, _bucket_hazard(step), number))
        if step.op in ("delete", "delete-replaced") and resource.urn in current_keys:
            app, generation = current_keys[resource.urn]
            if _keeps_keys(new_document, app):
                hazards.append(Hazard("current-key", resource.urn, _current_key_deleted(app, generation, step),
                                      number))
        live.apply(step, claimed)
        for user, keys in sorted(live.keys_per_user().items()):
            if len(keys) > MAX_KEYS_PER_USER and user not in over_quota:
                over_quota.add(user)
                hazards.append(Hazard("access-keys", resource.urn, (
                    f"IAM user {user} would hold {len(keys)} access keys at this step "
                    f"({', '.join(sorted(k.name for k in keys))}): IAM refuses more than {MAX_KEYS_PER_USER} "
                    "(LimitExceeded), and every later `pulumi up` fails the same way. Rotate one generation at a "
                    "time, or retire the previous key first"), number))
        for token, name, holders in live.shared_names():
            pair = (token, name, *sorted(h.urn for h in holders))
            if pair not in seen_pairs:
                seen_pairs.add(pair)
                hazards.append(Hazard("physical-name", resource.urn, _shared_name(token, name, holders), number))
    return hazards, stops_at


def _current_key_deleted(app: str, generation: int, step: Step) -> str:
    text = (f"the access key of generation {generation}, which app {app}'s .env holds, is deleted by this update "
            f"({step.why}): running instances lose access before they have its successor.")
    if "replacement trigger" in step.why or step.op == "delete":
        return text + (" Raise `rotation.generation` by one at a time with `retirePrevious: false`, give every "
                       "instance the new .env (`make env`), then retire the previous key")
    return text + (" Keep what forces the key's replacement as deployed, or rotate first: raise the generation, "
                   "give every instance the new .env, and make this change once the old key is retired")


def _shared_name(token: str, name: str, holders: list[Resource]) -> str:
    both = ", ".join(sorted(h.name for h in holders))
    if token in provider_rules.BUCKET_CONFIGURATIONS:
        return (f"two live {token} on bucket {name} at this step ({both}): deleting the original afterwards removes "
                "the configuration its replacement set. Set `deleteBeforeReplace` on it, or keep what forces the "
                "replacement as deployed")
    return (f"two live {token} named {name} at this step ({both}): the cloud refuses the second (or, on MinIO, "
            "overwrites the first). Give the new one another name, alias the renamed resource to its old URN, or "
            "set `deleteBeforeReplace` where the old one may go first")


def _new_protect(original: Resource, claimed: dict[str, str], steps: list[Step]) -> bool:
    """The program's `protect` for the resource that replaces `original` (delete-before-replace)."""
    for step in steps:
        if step.op == "create-replacement" and claimed.get(step.resource.urn) == original.urn:
            return bool(step.resource.option("protect"))
    return bool(original.option("protect"))


def compare(base_document: dict, new_document: dict, stack: str) -> Change:
    base, new = resources_of(base_document), resources_of(new_document)
    steps, unchanged, claimed = steps_of(base, new)
    hazards, stops_at = hazards_of(steps, base, claimed, base_document, new_document)
    notes = []
    if any(r.type == ACCESS_KEY for r in base) and not any(r.id for r in base if r.type == ACCESS_KEY):
        notes.append("BASE records no resource ids (a plan saved before they were recorded): the key each app's "
                     ".env holds is not known, so its deletion is not checked")
    return Change(stack=stack, steps=steps, unchanged=unchanged, hazards=hazards, stops_at=stops_at, notes=notes)


_MARKS = {"create": "+", "update": "~", "replace": "+-", "create-replacement": "+", "delete-replaced": "-",
          "delete": "-"}


def render_change(change: Change, base_name: str) -> str:
    lines = [f"change to stack {change.stack} from {base_name}: {len(change.steps)} steps, {change.unchanged} "
             "resources unchanged", ""]
    hazards_at: dict[int, list[Hazard]] = {}
    for hazard in change.hazards:
        hazards_at.setdefault(hazard.step, []).append(hazard)
    for phase, heading in ((PROGRAM, "while the program runs (each registration's steps as it arrives):"),
                           (AFTER, "after the program (deletes, dependents first):")):
        numbered = [(n, s) for n, s in enumerate(change.steps, 1) if s.phase == phase]
        if not numbered:
            continue
        lines.append(heading)
        for number, step in numbered:
            reached = change.stops_at is None or number <= change.stops_at
            resource = step.resource
            shown = f" {resource.physical_name}" if resource.physical_name else ""
            why = f"  ({step.why})" if step.why else ""
            lines.append(f"  {number:>3}. {_MARKS[step.op]:<2} {step.op:<18} {resource.type}  {resource.name}{shown}"
                         f"{why}{'' if reached else '  [not reached]'}")
            for hazard in hazards_at.get(number, []):
                lines.append(f"       ✗ {hazard.kind}: {hazard.message}")
            if number == change.stops_at:
                lines.append("       ■ the engine stops the update here")
        lines.append("")
    lines += [f"note: {note}" for note in change.notes]
    if change.hazards:
        lines.append(f"{len(change.hazards)} hazard{'s' if len(change.hazards) != 1 else ''}: `pulumi up` must not run "
                     "as planned:")
        lines += [f"  - step {h.step}, {h.kind}: {h.message}" for h in change.hazards]
    else:
        lines.append("no hazards: no protected resource replaced or deleted, no bucket's data lost, at most "
                     f"{MAX_KEYS_PER_USER} access keys per IAM user and one live resource per physical name at every "
                     "step")
    return "\n".join(lines)

