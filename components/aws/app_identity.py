"""AppIdentity: the IAM identity one application uses to reach its own bucket, and nothing else.

Defaults (behaviour):
- `kind: user` (the default): an IAM user whose permissions live on a group it joins (FSBP IAM.2: no policies
  attached to users), with no console password, and access keys by generation: the current one and, until it is
  retired, the previous one, so running instances keep working while new ones take the new key. Generation 1 keeps
  the resource name an unrotated app always had (`<name>-access-key`); generation N is `<name>-access-key-g<N>`.
  Raising the generation creates the new key; the next raise (or `retire_previous`) deletes the oldest. IAM allows
  two keys per user, and no more ever exist.
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
    key_generations: tuple[int, ...] = (1,)
    """The live access keys' generations, current first. Default: one key, generation 1."""
    role_name: str | None = None
    """With a trust policy: a role of this name instead of a user. Default: a user."""
    trust_policy: pulumi.Input[str] | None = None
    """The role's trust policy (JSON). Default: none (a user)."""
    tags: Mapping[str, str] = field(default_factory=dict)


def access_key_resource_name(name: str, generation: int) -> str:
    """Generation 1 keeps the name of the one key an unrotated app has always had: its URN never moves."""
    return f"{name}-access-key" if generation == 1 else f"{name}-access-key-g{generation}"


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
            lambda key_arn: json.dumps(documents.app_access_policy(args.bucket_arn, args.prefixes, key_arn)))

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
            keys = [(generation, aws.iam.AccessKey(access_key_resource_name(name, generation), user=user.name,
                                                   opts=child))
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
