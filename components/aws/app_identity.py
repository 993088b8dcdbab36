"""AppIdentity: the IAM identity one application uses to reach its own bucket, and nothing else.

Defaults (behaviour):
- Permissions live on a group the user joins (FSBP IAM.2: no policies attached to users).
- The policy names only the app's bucket, its area prefixes and its bucket's KMS key: no `*` action or
  resource. Action lists are the named constants in `components.documents`.
- No console password: the user can only sign API requests.
- One access key; its secret is a Pulumi secret, never plain text in outputs or logs.
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
    tags: Mapping[str, str] = field(default_factory=dict)


class AppIdentity(pulumi.ComponentResource):
    user_name: pulumi.Output[str]
    user_arn: pulumi.Output[str]
    group_name: pulumi.Output[str]
    access_key_id: pulumi.Output[str]
    secret_access_key: pulumi.Output[str]

    def __init__(self, name: str, args: AppIdentityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("app-storage:index:AppIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)

        group = aws.iam.Group(f"{name}-group", name=args.group_name, path=IAM_PATH, opts=child)
        policy = pulumi.Output.from_input(args.kms_key_arn).apply(
            lambda key_arn: json.dumps(documents.app_access_policy(args.bucket_arn, args.prefixes, key_arn)))
        aws.iam.GroupPolicy(f"{name}-group-policy", group=group.name, policy=policy, opts=child)

        user = aws.iam.User(f"{name}-user", name=args.user_name, path=IAM_PATH, tags=tags, opts=child)
        aws.iam.UserGroupMembership(f"{name}-membership", user=user.name, groups=[group.name], opts=child)
        access_key = aws.iam.AccessKey(f"{name}-access-key", user=user.name, opts=child)

        self.user_name = user.name
        self.user_arn = user.arn
        self.group_name = group.name
        self.access_key_id = access_key.id
        self.secret_access_key = pulumi.Output.secret(access_key.secret)
        self.register_outputs({
            "user_name": self.user_name,
            "user_arn": self.user_arn,
            "group_name": self.group_name,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
        })
