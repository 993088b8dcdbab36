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

import heapq
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cli import provider_rules
from cli.offline import BUCKET_TYPES, UNKNOWN_MARK
from components.aws.app_identity import ACCESS_KEYS_PER_USER, generation_named_key
from components.messages import one_line
from components.minio.minio_identity import service_account_resource_name

ACCESS_KEY = "aws:iam/accessKey:AccessKey"
KEY_HOLDERS = frozenset((ACCESS_KEY, "minio:index/iamUser:IamUser", "minio:index/iamServiceAccount:IamServiceAccount"))
"""The resources whose id is an app's access key id: an IAM access key; a MinIO user (its name is its key) and a
MinIO service account (terraform-provider-minio v1.20.1 resource_minio_service_account.go: SetId(accessKey))."""

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
    """create | import (an existing resource adopted by the `import` option, then updated to its inputs) | update |
    replace (create-before-delete: the replacement is created now) | delete-replaced (an original, deleted) |
    create-replacement (after its original was deleted) | delete."""
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
    """protected | data | access-keys | physical-name | current-key | key-generation"""
    urn: str
    message: str
    step: int
    """The 1-based number of the step it happens at; 0 for the change as a whole."""

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
    skipped: list[int] = field(default_factory=list)
    """Deletes the engine does not take: of a protected resource, and of what such a resource depends on."""

    def as_dict(self) -> dict:
        return {"stack": self.stack, "steps": [s.as_dict() for s in self.steps], "unchanged": self.unchanged,
                "stopsAt": self.stops_at, "skipped": self.skipped, "hazards": [h.as_dict() for h in self.hazards],
                "notes": self.notes}


# --- reading plans --------------------------------------------------------------------------------------------




def _fail(path: Path, what: str) -> ChangeError:
    return ChangeError(f"BASE={path}: not a plan JSON ({what}); give the output of `make -s plan STACK=<stack> "
                       "FORMAT=json` at the deployed commit")


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


_OPTION_TYPES: dict[str, Callable[[Any], bool]] = {
    "protect": lambda v: isinstance(v, bool), "retainOnDelete": lambda v: isinstance(v, bool),
    "deleteBeforeReplace": lambda v: isinstance(v, bool), "dependsOn": _strings, "aliases": _strings,
    "replaceOnChanges": _strings, "ignoreChanges": _strings, "provider": lambda v: v is None or isinstance(v, str),
}


def _check_document(document: Any, path: Path) -> None:
    """Every field the model reads has the shape `make plan FORMAT=json` writes; anything else is refused whole."""
    if not isinstance(document, dict) or not isinstance(document.get("resources"), list):
        raise _fail(path, "no `resources` list")
    for index, resource in enumerate(document["resources"]):
        where = f"resources[{index}]"
        if not isinstance(resource, dict) or not all(isinstance(resource.get(k), str) for k in ("urn", "type", "name")):
            raise _fail(path, f"{where} has no urn, type and name as text")
        for key, valid in (("parent", lambda v: v is None or isinstance(v, str)), ("id", lambda v: isinstance(v, str)),
                           ("custom", lambda v: isinstance(v, bool)), ("inputs", lambda v: isinstance(v, dict)),
                           ("options", lambda v: isinstance(v, dict))):
            if key in resource and not valid(resource[key]):
                raise _fail(path, f"{where}.{key} is {type(resource[key]).__name__}")
        for key, valid in _OPTION_TYPES.items():
            options = resource.get("options") or {}
            if key in options and not valid(options[key]):
                raise _fail(path, f"{where}.options.{key} is {type(options[key]).__name__}")
    outputs = document.get("outputs", {})
    if not isinstance(outputs, dict):
        raise _fail(path, "`outputs` is not a map")
    for app, output in outputs.items():
        keys = output.get("access_keys") if isinstance(output, dict) else None
        if keys is not None and not (isinstance(keys, list) and all(
                isinstance(k, dict) and isinstance(k.get("generation"), int) and isinstance(k.get("current"), bool)
                and isinstance(k.get("access_key_id"), (str, type(None))) for k in keys)):
            raise _fail(path, f"outputs.{app}.access_keys is not a list of {{generation, access_key_id, current}}")


def read_base(path: Path, stack: str) -> dict:
    """A plan JSON of `stack` (`make -s plan FORMAT=json`), as saved from the deployed commit."""
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise ChangeError(f"BASE={path}: no such file; save the deployed commit's plan with "
                          "`make -s plan STACK=<stack> FORMAT=json > deployed.json`") from None
    except RecursionError:
        raise _fail(path, "nested too deeply") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise _fail(path, one_line(str(error))) from None
    _check_document(document, path)
    if document.get("stack") not in (None, stack):
        raise ChangeError(f"BASE={path} is a plan of stack {document['stack']!r}, not {stack!r}: every URN names its "
                          f"stack, so nothing would match; give the deployed plan of {stack}")
    return document


def resources_of(document: dict) -> list[Resource]:
    return [Resource(urn=r["urn"], type=r["type"], name=r["name"], custom=bool(r.get("custom", True)),
                     inputs=r.get("inputs") or {}, options=r.get("options") or {}, parent=r.get("parent"),
                     id=r.get("id") or "")
            for r in document.get("resources", [])]


# --- the apps' keys -------------------------------------------------------------------------------------------


def _generation_named(app: str, generation: int) -> tuple[str, ...]:
    """The resource names a key of `generation` had before key slots (AWS key; MinIO user or service account)."""
    identity = f"{app}-identity"  # AppStorage's child
    minio_key = f"{identity}-user" if generation == 1 else service_account_resource_name(identity, generation)
    return generation_named_key(identity, generation), minio_key


def live_keys(document: dict, resources: list[Resource] | None = None) -> dict[str, tuple[str, int, bool]]:
    """Each app's live keys in a plan, by the URN of the resource that holds them: {urn: (app, generation,
    current)}. Found by the id the outputs name (`<app>.access_keys`; an IAM access key's id, a MinIO user's name,
    a MinIO service account's access key), or, in a plan saved before ids were recorded, by the resource name the
    generation had then. `resources`: the document's, where the caller has read them already."""
    holders = [r for r in (resources if resources is not None else resources_of(document)) if r.type in KEY_HOLDERS]
    by_id = {r.id: r for r in holders if r.id}
    found = {}
    for app, output in sorted((document.get("outputs") or {}).items()):
        for key in (output.get("access_keys") or []) if isinstance(output, dict) else []:
            resource = by_id.get(key["access_key_id"]) or next(
                (r for r in holders if r.name in _generation_named(app, key["generation"])), None)
            if resource:
                found[resource.urn] = (app, key["generation"], key["current"])
    return found


def _keeps_keys(document: dict, app: str) -> bool:
    output = (document.get("outputs") or {}).get(app)
    return bool(output.get("access_keys")) if isinstance(output, dict) else False


# --- diffs ----------------------------------------------------------------------------------------------------


def _changed_inputs(old: Resource, new: Resource) -> list[str]:
    ignored = set(new.option("ignoreChanges") or [])
    changed = []
    for key in sorted(set(old.inputs) | set(new.inputs)):
        before, after = old.inputs.get(key), new.inputs.get(key)
        if key in ignored or (before == after and after != UNKNOWN_MARK):
            continue
        if key == "region" and None in (before, after):
            continue  # pulumi-aws fills an unset region with the provider's (provider/region.go applyRegion)
        changed.append(key)
    return changed


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


@dataclass(frozen=True)
class _Decision:
    """What the engine does with one registration."""

    resource: Resource
    old: Resource | None
    reasons: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    @property
    def protected_replacement(self) -> bool:
        """`continueStepsFromDiff`: a replacement of a resource protected in the state and in the program."""
        return bool(self.reasons and self.old and self.old.option("protect") and self.resource.option("protect"))


def _claims(base: dict[str, Resource], new: list[Resource]) -> dict[str, str]:
    """Which base URN each new resource takes over (`getOldResource`): its own URN, else its first alias found in
    BASE and not taken by another."""
    claimed = {r.urn: r.urn for r in new if r.urn in base}
    taken = set(claimed.values())
    for resource in sorted(new, key=lambda r: r.urn):
        if resource.urn in claimed:
            continue
        alias = next((urn for urn in resource.option("aliases", ()) if urn in base and urn not in taken), None)
        if alias:
            claimed[resource.urn] = alias
            taken.add(alias)
    return claimed


def _registration_order(decisions: dict[str, _Decision]) -> list[_Decision]:
    """An order the program may register in: each resource after what it depends on. Where the engine's order is
    free (parallel chains), the protected replacement that needs the fewest registrations before it comes first,
    with what it needs, since the engine stops at the first one it meets; then the rest by URN. The steps shown
    before a stop are those that must precede it."""
    pending = {urn: decision.resource.dependencies & set(decisions) - {urn} for urn, decision in decisions.items()}
    dependents: dict[str, list[str]] = {}
    for urn, deps in pending.items():
        for dep in deps:
            dependents.setdefault(dep, []).append(urn)

    first_stop = min((_ancestors(urn, pending) | {urn} for urn, d in decisions.items() if d.protected_replacement),
                     key=lambda needed: (len(needed), sorted(needed)), default=set())

    def priority(urn: str) -> tuple[int, str]:
        return (0 if urn in first_stop else 1, urn)

    ready = [priority(urn) for urn, deps in pending.items() if not deps]
    heapq.heapify(ready)
    placed: set[str] = set()
    ordered: list[_Decision] = []
    while len(ordered) < len(decisions):
        if not ready:  # a cycle, which a program cannot register: take the first left rather than loop
            heapq.heappush(ready, min(priority(urn) for urn in decisions if urn not in placed))
        _, urn = heapq.heappop(ready)
        if urn in placed:
            continue
        placed.add(urn)
        ordered.append(decisions[urn])
        for dependent in dependents.get(urn, ()):
            pending[dependent].discard(urn)
            if not pending[dependent] and dependent not in placed:
                heapq.heappush(ready, priority(dependent))
    return ordered


def _ancestors(urn: str, dependencies: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = [urn]
    while todo:
        for dep in dependencies.get(todo.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def _delete_order(condemned: list[Resource], base: dict[str, Resource]) -> list[Resource]:
    """`ScheduleDeletes`: antichains of condemned resources with no condemned dependency left, reversed, so
    dependents go before what they depend on; each antichain by URN (the engine runs it in parallel)."""
    urns = {r.urn for r in condemned}
    closure = {r.urn: _reaches(r.urn, base) & (urns - {r.urn}) for r in condemned}
    remaining = {r.urn: r for r in condemned}
    antichains: list[list[Resource]] = []
    while remaining:
        chain = [r for urn, r in remaining.items() if not closure[urn] & set(remaining)]
        chain = chain or list(remaining.values())  # a deployed state has no cycle; never loop on one
        antichains.append(sorted(chain, key=lambda r: r.urn))
        for r in chain:
            remaining.pop(r.urn)
    return [r for chain in reversed(antichains) for r in chain]


def _reaches(urn: str, base: dict[str, Resource]) -> set[str]:
    """Everything `urn` depends on, transitively (`DependenciesOf`: parent, dependencies, provider)."""
    seen: set[str] = set()
    todo = [urn]
    while todo:
        for dep in base[todo.pop()].dependencies:
            if dep in base and dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def steps_of(base: list[Resource], new: list[Resource]) -> tuple[list[Step], int, dict[str, str]]:
    """The engine's steps from `base` to `new`, the number of resources left as they are, and which new URN
    claimed which base URN."""
    olds = {r.urn: r for r in base}
    claimed = _claims(olds, new)
    decisions = {}
    for resource in new:
        old = olds.get(claimed.get(resource.urn, ""))
        reasons, changed = replacement_reasons(old, resource) if old and resource.custom else ([], [])
        decisions[resource.urn] = _Decision(resource, old, tuple(reasons), tuple(changed))
    steps: list[Step] = []
    pending_deletes: list[Resource] = []
    unchanged = 0
    for decision in _registration_order(decisions):
        resource, old = decision.resource, decision.old
        if not resource.custom:
            continue
        why = "; ".join(decision.reasons)
        if old is None and resource.option("import"):
            # pulumi/pulumi step_generator.go `isImport`: an ID in the goal and no old state reads the resource
            # instead of creating it (then updates it to the declared inputs, #19339).
            steps.append(Step("import", resource, PROGRAM, f"adopts the existing {resource.option('import')}"))
        elif old is None:
            steps.append(Step("create", resource, PROGRAM))
        elif decision.reasons and resource.option("deleteBeforeReplace"):
            steps.append(Step("delete-replaced", old, PROGRAM, f"delete-before-replace: {why}"))
            steps.append(Step("create-replacement", resource, PROGRAM, why))
        elif decision.reasons:
            steps.append(Step("replace", resource, PROGRAM, f"create-before-delete: {why}"))
            pending_deletes.append(old)
        elif decision.changed:
            steps.append(Step("update", resource, PROGRAM, ", ".join(decision.changed)))
        else:
            unchanged += 1
    taken = set(claimed.values())
    gone = [r for r in base if r.urn not in taken]
    replaced = {r.urn for r in pending_deletes}
    for resource in _delete_order([*pending_deletes, *gone], olds):
        if not resource.custom:
            continue
        retained = "; retained on delete: it stays in the cloud, unmanaged" if resource.option("retainOnDelete") else ""
        why = "the original of a replacement" if resource.urn in replaced else "no longer declared"
        steps.append(Step("delete-replaced" if resource.urn in replaced else "delete", resource, AFTER, why + retained))
    return steps, unchanged, claimed


# --- hazards --------------------------------------------------------------------------------------------------


class _Live:
    """What exists in the cloud at each step: instances by (side, URN), indexed by the name they hold and, for IAM
    access keys, by their user; a retained resource stays after its delete (a bucket's configuration is then
    overwritten by its replacement, so it holds nothing)."""

    def __init__(self, base: list[Resource]):
        self.instances: dict[tuple[str, str], Resource] = {}
        self.by_name: dict[tuple, set[tuple[str, str]]] = {}
        self.keys_by_user: dict[str, set[tuple[str, str]]] = {}
        for resource in base:
            if resource.custom:
                self._add(("base", resource.urn), resource)

    @staticmethod
    def name_key(resource: Resource) -> tuple | None:
        name = resource.physical_name
        if name is None:
            return None
        if resource.type in provider_rules.CASE_INSENSITIVE_NAMES:
            name = name.lower()
        region = resource.inputs.get("region") if resource.type in provider_rules.REGIONAL_NAMES else None
        return resource.type, region, name

    def _add(self, key: tuple[str, str], resource: Resource) -> None:
        self.instances[key] = resource
        if (name := self.name_key(resource)) is not None:
            self.by_name.setdefault(name, set()).add(key)
        if resource.type == ACCESS_KEY:
            self.keys_by_user.setdefault(str(resource.inputs.get("user")), set()).add(key)

    def _remove(self, key: tuple[str, str]) -> None:
        resource = self.instances.pop(key, None)
        if resource is None:
            return
        if (name := self.name_key(resource)) is not None:
            self.by_name.get(name, set()).discard(key)
        if resource.type == ACCESS_KEY:
            self.keys_by_user.get(str(resource.inputs.get("user")), set()).discard(key)

    def apply(self, step: Step, claimed: dict[str, str]) -> None:
        resource = step.resource
        if step.op in ("create", "import", "replace", "create-replacement"):
            self._add(("new", resource.urn), resource)
        elif step.op == "update":
            key = ("base", claimed[resource.urn])
            self._remove(key)
            self._add(key, resource)
        elif not resource.option("retainOnDelete") or resource.type in provider_rules.BUCKET_CONFIGURATIONS:
            self._remove(("base", resource.urn))

    def holders(self, resource: Resource) -> list[Resource]:
        name = self.name_key(resource)
        return [self.instances[key] for key in sorted(self.by_name.get(name, ()))] if name else []

    def user_keys(self, resource: Resource) -> tuple[str, list[Resource]]:
        user = str(resource.inputs.get("user"))
        return user, [self.instances[key] for key in sorted(self.keys_by_user.get(user, ()))]


def _bucket_hazard(step: Step) -> str | None:
    """What a bucket's delete does to its data; None where nothing is lost (a retained bucket no longer declared)."""
    resource = step.resource
    bucket = f"bucket {resource.physical_name or resource.name} ({resource.name})"
    replaced = step.op == "delete-replaced"
    fix = ("Keep the bucket's name and what else forces its replacement as deployed, or copy its objects to the new "
           "bucket first" if replaced else "Declare the app again, or empty and export the bucket first")
    if resource.option("retainOnDelete"):
        return (f"{bucket} leaves the stack with its data (retained on delete): the app is pointed at a new, empty "
                f"bucket. {fix}") if replaced else None
    if resource.inputs.get("forceDestroy") is True:
        return f"{bucket} is deleted with every object in it (forceDestroy): its data is gone. {fix}"
    return (f"{bucket} is deleted: S3 refuses while it holds objects (BucketNotEmpty) and the update fails there; an "
            f"empty one is gone. {fix}")


def _current_key_deleted(app: str, generation: int, step: Step) -> str:
    text = (f"the key of generation {generation}, which app {app}'s .env holds, is deleted by this update "
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


def _relabelled_keys(claimed: dict[str, str], new: list[Resource], olds: dict[str, Resource],
                     base_keys: dict) -> list[tuple[str, str]]:
    """(URN, message) for each key slot that takes over a key deployed before slots with another generation: the
    trigger was never recorded, so the engine does not replace (`shouldTriggerReplace`) and the old key would be
    handed out as the new generation."""
    found = []
    for resource in new:
        trigger = resource.option("replacementTrigger")
        old_urn = claimed.get(resource.urn, "")
        if (resource.type != ACCESS_KEY or trigger is None or old_urn not in base_keys
                or olds[old_urn].option("replacementTrigger") is not None):
            continue
        app, generation, _ = base_keys[old_urn]
        if generation != trigger:
            found.append((old_urn, (
                f"app {app}'s key slot {resource.name} holds the key of generation {generation}, deployed before key "
                f"slots recorded a generation: the engine replaces on a trigger only once one is recorded, so this "
                f"update keeps key {generation} and hands it out as generation {trigger}. Upgrade app-storage at "
                f"the deployed generation ({generation}) first, then raise it")))
    return found


@dataclass
class _Walk:
    """The hazards found while walking the steps, and which steps the engine would not take."""

    hazards: list[Hazard] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stops_at: int | None = None
    skipped: set[int] = field(default_factory=set)


def hazards_of(steps: list[Step], base: list[Resource], claimed: dict[str, str],
               base_keys: dict[str, tuple[str, int, bool]], new_document: dict) -> _Walk:
    """Walk the steps over what exists, naming each hazard once, at the step it happens."""
    walk = _Walk()
    live = _Live(base)
    olds = {r.urn: r for r in base}
    current_keys = {urn: (app, generation) for urn, (app, generation, current) in base_keys.items() if current}
    blocked: set[str] = set()
    """Resources the engine will not delete: protected ones, and what they depend on (`performPostSteps` skips the
    dependencies of a failed delete)."""
    reported_names: set[tuple] = set()
    over_quota: set[str] = set()
    for number, step in enumerate(steps, 1):
        resource = step.resource
        if step.phase == PROGRAM and step.op in ("replace", "delete-replaced"):
            old = olds[claimed.get(resource.urn, resource.urn)]
            new = resource if step.op == "replace" else _replacement_of(old, claimed, steps)
            if old.option("protect") and new.option("protect"):
                walk.hazards.append(Hazard("protected", old.urn, (
                    f"{old.type} {old.name} is protected and would be replaced ({step.why.split(': ', 1)[-1]}): the "
                    "engine stops the update at the first such replacement it meets. Keep what forces the "
                    "replacement as deployed, or unprotect it on purpose first"), number))
                walk.stops_at = walk.stops_at or number
        if step.op == "delete" and (resource.option("protect") or resource.urn in blocked):
            walk.skipped.add(number)
            if resource.option("protect"):
                blocked |= _reaches(resource.urn, olds)
                walk.hazards.append(Hazard("protected", resource.urn, (
                    f"{resource.type} {resource.name} is protected and no longer declared: deleting it fails and the "
                    "update fails (the engine goes on with the deletes that do not need it). Declare it again, or "
                    "run `pulumi state unprotect` on purpose first"), number))
            continue
        if resource.type in BUCKET_TYPES and step.op in ("delete", "delete-replaced"):
            message = _bucket_hazard(step)
            if message:
                walk.hazards.append(Hazard("data", resource.urn, message, number))
            else:
                walk.notes.append(f"bucket {resource.physical_name} leaves the stack at step {number}; it stays in the "
                                  "account with its data (retained on delete), no longer managed")
        if step.op in ("delete", "delete-replaced") and resource.urn in current_keys:
            app, generation = current_keys[resource.urn]
            if _keeps_keys(new_document, app):
                walk.hazards.append(Hazard("current-key", resource.urn, _current_key_deleted(app, generation, step),
                                           number))
            elif app in (new_document.get("outputs") or {}):
                walk.notes.append(f"app {app}'s key (generation {generation}) is deleted at step {number} and the app "
                                  "gets no key: its instances must use their role before this update")
            else:
                walk.notes.append(f"app {app} is no longer declared: its key (generation {generation}) is deleted at "
                                  f"step {number}")
        live.apply(step, claimed)
        if resource.type == ACCESS_KEY and step.op in ("create", "replace", "create-replacement"):
            user, keys = live.user_keys(resource)
            if len(keys) > ACCESS_KEYS_PER_USER and user not in over_quota:
                over_quota.add(user)
                walk.hazards.append(Hazard("access-keys", resource.urn, (
                    f"IAM user {user} would hold {len(keys)} access keys at this step "
                    f"({', '.join(sorted(k.name for k in keys))}): IAM refuses more than {ACCESS_KEYS_PER_USER} "
                    "(LimitExceeded), and every later `pulumi up` fails the same way. Rotate one generation at a "
                    "time, or retire the previous key first"), number))
        holders = live.holders(resource) if step.op != "delete" and step.op != "delete-replaced" else []
        if len(holders) > 1:
            reported = (live.name_key(resource), *sorted(h.urn for h in holders))
            if reported not in reported_names:
                reported_names.add(reported)
                walk.hazards.append(Hazard("physical-name", resource.urn, _shared_name(
                    resource.type, resource.physical_name or "", holders), number))
    return walk


def _replacement_of(original: Resource, claimed: dict[str, str], steps: list[Step]) -> Resource:
    """The program's resource that replaces `original` (delete-before-replace)."""
    for step in steps:
        if step.op == "create-replacement" and claimed.get(step.resource.urn) == original.urn:
            return step.resource
    return original


def compare(base_document: dict, new_document: dict, stack: str) -> Change:
    base, new = resources_of(base_document), resources_of(new_document)
    steps, unchanged, claimed = steps_of(base, new)
    base_keys = live_keys(base_document, base)
    walk = hazards_of(steps, base, claimed, base_keys, new_document)
    olds = {r.urn: r for r in base}
    walk.hazards += [Hazard("key-generation", urn, message, 0)
                     for urn, message in _relabelled_keys(claimed, new, olds, base_keys)]
    moved = sorted(r.name for r in new if r.urn in claimed and r.custom
                   and (r.option("provider") or "").split("::")[0:4] != (
                       olds[claimed[r.urn]].option("provider") or "").split("::")[0:4])
    if moved:
        walk.notes.append(f"the provider of {', '.join(moved)} changes: the engine asks the provider whether that "
                          "replaces them, which this model does not know")
    if any(r.type in KEY_HOLDERS for r in base) and not any(r.id for r in base if r.type in KEY_HOLDERS):
        walk.notes.append("BASE records no resource ids (a plan saved before they were recorded): each app's keys "
                          "are found by the resource names their generations had then")
    return Change(stack=stack, steps=steps, unchanged=unchanged, hazards=walk.hazards, stops_at=walk.stops_at,
                  notes=walk.notes, skipped=sorted(walk.skipped))


_MARKS = {"create": "+", "import": "=", "update": "~", "replace": "+-", "create-replacement": "+",
          "delete-replaced": "-", "delete": "-"}


def render_change(change: Change, base_name: str) -> str:
    lines = [f"change to stack {change.stack} from {base_name}: {len(change.steps)} steps, {change.unchanged} "
             "resources unchanged", ""]
    hazards_at: dict[int, list[Hazard]] = {}
    for hazard in change.hazards:
        hazards_at.setdefault(hazard.step, []).append(hazard)
    for message in hazards_at.get(0, []):
        lines += [f"✗ {message.kind}: {message.message}", ""]
    for phase, heading in ((PROGRAM, "while the program runs (each registration's steps as it arrives):"),
                           (AFTER, "after the program (deletes, dependents first):")):
        numbered = [(n, s) for n, s in enumerate(change.steps, 1) if s.phase == phase]
        if not numbered:
            continue
        lines.append(heading)
        for number, step in numbered:
            resource = step.resource
            shown = f" {resource.physical_name}" if resource.physical_name else ""
            why = f"  ({step.why})" if step.why else ""
            mark = ("  [after the stop]" if change.stops_at is not None and number > change.stops_at
                    else "  [not taken]" if number in change.skipped else "")
            lines.append(f"  {number:>3}. {_MARKS[step.op]:<2} {step.op:<18} {resource.type}  {resource.name}{shown}"
                         f"{why}{mark}")
            lines += [f"       ✗ {hazard.kind}: {hazard.message}" for hazard in hazards_at.get(number, [])]
            if number == change.stops_at:
                lines.append("       ■ the engine stops the update here; steps below that do not depend on this one "
                             "may already have run, in the engine's own order")
        lines.append("")
    lines += [f"note: {note}" for note in change.notes]
    if change.hazards:
        lines.append(f"{len(change.hazards)} hazard{'s' if len(change.hazards) != 1 else ''}: `pulumi up` must not run "
                     "as planned:")
        lines += [f"  - {f'step {h.step}, ' if h.step else ''}{h.kind}: {h.message}" for h in change.hazards]
    else:
        lines.append("no hazards: no protected resource replaced or deleted, no bucket's data lost, at most "
                     f"{ACCESS_KEYS_PER_USER} access keys per IAM user and one live resource per physical name at "
                     "every step, every app's .env key kept")
    return "\n".join(lines)
