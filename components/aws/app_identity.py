"""AppIdentity: the IAM identity one application uses to reach its own bucket, and nothing else.

Defaults (behaviour):
- `kind: user` (the default): an IAM user whose permissions live on a group it joins (FSBP IAM.2: no policies
  attached to users), with no console password, and access keys by generation: the current one and, until it is
  retired, the previous one, so running instances keep working while new ones take the new key.
- Keys live in two fixed slots, generation N in slot (N-1) % 2: `<name>-access-key` (generation 1's resource
  name, so an unrotated app's key never moves) and `<name>-access-key-second`. Each slot is replaced, deleting
  before it creates, when its generation changes (the `replacement_trigger` option), so raising the generation
  from N to N+1 deletes key N-1 and then creates key N+1 in the slot they share: IAM's quota of two keys per user
  holds at every step of `pulumi up`. (Keys named by generation did not: the engine creates the new key while the
  program runs and deletes the retired one only after it ends, so a third key was refused.) Each slot aliases the
  generation-named resource of the earlier design, so upgrading keeps the deployed keys.
- `kind: role`: an IAM role with the same policy, assumable only as its trust policy says; no user, no key.
- The policy names only the app's bucket, its area prefixes and its bucket's KMS key: no `*` action or
  resource. Action lists are the named constants in `components.documents`.
- Secrets are Pulumi secrets, never plain text in outputs or logs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
from pulumi.runtime import settings
from pulumi.runtime.proto import resource_pb2

from components import documents

IAM_PATH = "/app-storage/"


@dataclass(frozen=True)
class AppIdentityArgs:
    user_name: str
    """The IAM user's name (`naming.iam_user_name`)."""
    group_name: str
    """The group that holds the permissions (`naming.iam_group_name`)."""
    bucket_arn: str
    """The one bucket the identity may use."""
    prefixes: tuple[str, ...]
    """Area prefixes it may list, read and write ('' for the whole bucket)."""
    kms_key_arn: pulumi.Input[str | None] = None
    """The bucket's KMS key, when SSE-KMS is on. Default: no KMS permissions."""
    kept_key_arns: tuple[str, ...] = ()
    """Keys it may decrypt with: an adopted bucket's objects written under them (`keep.kmsKeyArns`). Default: none."""
    key_generations: tuple[int, ...] = (1,)
    """The live access keys' generations, current first. Default: one key, generation 1."""
    role_name: str | None = None
    """With a trust policy: a role of this name instead of a user. Default: a user."""
    trust_policy: pulumi.Input[str] | None = None
    """The role's trust policy (JSON). Default: none (a user)."""
    tags: Mapping[str, str] = field(default_factory=dict)


ACCESS_KEYS_PER_USER = 2
"""IAM's quota of access keys per user ("Access keys assigned to an IAM user: 2", IAM and AWS STS quotas)."""
KEY_SLOTS = ACCESS_KEYS_PER_USER
"""One slot per key IAM lets a user hold."""
REPLACEMENT_TRIGGER_ENGINE = ">=3.226.0"
"""The Pulumi CLI versions that replace a resource when its `replacement_trigger` changes: the engine honours the
option since 3.208.0 (pulumi/pulumi#20936) and no longer fires it on dependency changes since 3.226.0 (#22119);
an older engine drops it silently. `Pulumi.yaml`'s `requiredPulumiVersion` says the same."""


def key_slot(generation: int) -> int:
    """The slot generation `generation` lives in: consecutive generations never share one."""
    return (generation - 1) % KEY_SLOTS


def access_key_resource_name(name: str, generation: int) -> str:
    """The resource name of the slot that holds `generation`'s key. Slot 0 keeps the name of the one key an
    unrotated app has always had, so its URN never moves."""
    return f"{name}-access-key" if key_slot(generation) == 0 else f"{name}-access-key-second"


def generation_named_key(name: str, generation: int) -> str:
    """The resource name the earlier design gave generation `generation`'s key: a slot's alias."""
    return f"{name}-access-key" if generation == 1 else f"{name}-access-key-g{generation}"


def access_key_options(name: str, generation: int, parent: pulumi.Resource) -> pulumi.ResourceOptions:
    """A slot holding `generation`: replaced, deleting first, when the generation it holds changes."""
    earlier = generation_named_key(name, generation)
    aliases = [pulumi.Alias(name=earlier)] if earlier != access_key_resource_name(name, generation) else None
    return pulumi.ResourceOptions(parent=parent, replacement_trigger=generation, delete_before_replace=True,
                                  aliases=aliases)


def require_replacement_trigger(generations: tuple[int, ...]) -> None:
    """A key in a slot an earlier generation held is made by replacing that key: an engine without
    `replacement_trigger` would keep the old key under the new generation's number."""
    if max(generations, default=1) > KEY_SLOTS and not settings.monitor_supports_feature(
            resource_pb2.RESOURCE_MONITOR_FEATURE_REPLACEMENT_TRIGGER):
        raise pulumi.RunError(
            f"key rotation to generation {max(generations)} needs a Pulumi CLI {REPLACEMENT_TRIGGER_ENGINE} "
            "(the `replacement_trigger` option): this one would keep the retired key. Upgrade the Pulumi CLI.")


class AppIdentity(pulumi.ComponentResource):
    identity_name: str
    """The user's name, or the role's."""
    role_arn: pulumi.Output[str | None]
    access_key_id: pulumi.Output[str | None]
    secret_access_key: pulumi.Output[str | None]
    previous_access_key_id: pulumi.Output[str | None]
    previous_secret_access_key: pulumi.Output[str | None]
    access_keys: pulumi.Output[list]
    """Each live key: {generation, access_key_id, current}."""

    def __init__(self, name: str, args: AppIdentityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("app-storage:index:AppIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        policy = pulumi.Output.from_input(args.kms_key_arn).apply(
            lambda key_arn: json.dumps(documents.app_access_policy(args.bucket_arn, args.prefixes, key_arn,
                                                                   args.kept_key_arns)))

        none: pulumi.Output = pulumi.Output.from_input(None)
        self.role_arn = none
        keys: list[tuple[int, aws.iam.AccessKey]] = []
        if args.role_name and args.trust_policy is not None:
            role = aws.iam.Role(f"{name}-role", name=args.role_name, path=IAM_PATH,
                                assume_role_policy=args.trust_policy, tags=tags, opts=child)
            aws.iam.RolePolicy(f"{name}-role-policy", role=role.name, policy=policy, opts=child)
            self.identity_name = args.role_name
            self.role_arn = role.arn
        else:
            group = aws.iam.Group(f"{name}-group", name=args.group_name, path=IAM_PATH, opts=child)
            aws.iam.GroupPolicy(f"{name}-group-policy", group=group.name, policy=policy, opts=child)
            user = aws.iam.User(f"{name}-user", name=args.user_name, path=IAM_PATH, tags=tags, opts=child)
            aws.iam.UserGroupMembership(f"{name}-membership", user=user.name, groups=[group.name], opts=child)
            require_replacement_trigger(args.key_generations)
            keys = [(generation, aws.iam.AccessKey(access_key_resource_name(name, generation), user=user.name,
                                                   opts=access_key_options(name, generation, self)))
                    for generation in args.key_generations]
            self.identity_name = args.user_name

        current = keys[0][1] if keys else None
        previous = keys[1][1] if len(keys) > 1 else None
        self.access_key_id = current.id if current else none
        self.secret_access_key = pulumi.Output.secret(current.secret) if current else none
        self.previous_access_key_id = previous.id if previous else none
        self.previous_secret_access_key = pulumi.Output.secret(previous.secret) if previous else none
        self.access_keys = pulumi.Output.all(*(key.id for _, key in keys)).apply(lambda ids: [
            {"generation": generation, "access_key_id": key_id, "current": index == 0}
            for index, ((generation, _), key_id) in enumerate(zip(keys, ids, strict=True))])
        self.register_outputs({
            "identity_name": self.identity_name,
            "role_arn": self.role_arn,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "previous_access_key_id": self.previous_access_key_id,
            "previous_secret_access_key": self.previous_secret_access_key,
            "access_keys": self.access_keys,
        })
