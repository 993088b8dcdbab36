"""IAM identities and their policies (AWS), and MinIO users' policies."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from .common import (
    MANDATORY,
    Finding,
    Rule,
    Statement,
    as_strings,
    bucket_name_of_arn,
    dependencies_of,
    described,
    is_map,
    items,
    policy_document,
    statements,
    unique,
    value,
    wildcard_actions,
)
from .stack import BUCKET_TYPES, StackView, app_of

IDENTITY_POLICY_TYPES = frozenset({
    "aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy",
    "aws:iam/rolePolicy:RolePolicy",
})
MINIO_POLICY_TYPES = frozenset({
    "minio:index/iamPolicy:IamPolicy", "minio:index/iamGroupPolicy:IamGroupPolicy",
    "minio:index/iamServiceAccount:IamServiceAccount",
})
DIRECT_USER_GRANTS = frozenset({"aws:iam/userPolicy:UserPolicy", "aws:iam/userPolicyAttachment:UserPolicyAttachment"})
KMS_KEY = "aws:kms/key:Key"
SCOPED_SERVICES = ("s3", "kms")
"""Services whose actions must name their buckets and keys, never `*`."""
ACTIONS_WITHOUT_RESOURCE = frozenset({"s3:listallmybuckets", "kms:listkeys", "kms:listaliases", "kms:createkey"})
"""Actions AWS only grants on `*`: naming them with `*` is not a wildcard grant."""


def identity_statements(resource: Any) -> list[Statement]:
    """The statements of an identity policy resource (a role's inline policies included)."""
    found = statements(value(resource.props, "policy"))
    if resource.resource_type == "aws:iam/role:Role":
        for inline in items(resource.props, "inlinePolicies"):
            found += statements(value(inline, "policy"))
    return found


def _is_identity_policy(resource: Any) -> bool:
    return resource.resource_type in IDENTITY_POLICY_TYPES or resource.resource_type == "aws:iam/role:Role"


def no_wildcard_actions(resource: Any, _config: Mapping) -> Iterator[str]:
    if not _is_identity_policy(resource):
        return
    for statement in identity_statements(resource):
        if not statement.allows:
            continue
        wild = wildcard_actions(statement)
        if wild:
            yield (f"{described(resource)}: {statement.label} must name its actions; it allows "
                   f"{', '.join(wild)}")
        if statement.not_actions:
            yield f"{described(resource)}: {statement.label} must not Allow with NotAction (allows all but a few)"


def no_wildcard_resources(resource: Any, _config: Mapping) -> Iterator[str]:
    if not _is_identity_policy(resource):
        return
    for statement in identity_statements(resource):
        scoped = [a for a in statement.actions if a.partition(":")[0].lower() in SCOPED_SERVICES
                  and a.lower() not in ACTIONS_WITHOUT_RESOURCE]
        if statement.allows and scoped and any(r in ("*", "arn:aws:s3:::*") for r in statement.resources):
            yield (f"{described(resource)}: {statement.label} must name the buckets and keys it grants "
                   f"{', '.join(scoped)} on, not *")


def no_console_login(resource: Any, _config: Mapping) -> Iterator[str]:
    if resource.resource_type == "aws:iam/userLoginProfile:UserLoginProfile":
        yield f"{described(resource)}: an app user must not have a console password (login profile)"


def permissions_through_groups(resource: Any, _config: Mapping) -> Iterator[str]:
    kind = resource.resource_type
    if kind in DIRECT_USER_GRANTS or (kind == "aws:iam/policyAttachment:PolicyAttachment"
                                      and items(resource.props, "users")):
        yield f"{described(resource)}: a user must get its permissions through a group or role, not directly"


def minio_policy_no_wildcards(resource: Any, _config: Mapping) -> Iterator[str]:
    if resource.resource_type not in MINIO_POLICY_TYPES:
        return
    for statement in statements(value(resource.props, "policy")):
        if not statement.allows:
            continue
        wild = wildcard_actions(statement)
        if wild:
            yield f"{described(resource)}: {statement.label} must name its actions; it allows {', '.join(wild)}"
        if any(r in ("*", "arn:aws:s3:::*") for r in statement.resources):
            yield f"{described(resource)}: {statement.label} must name its buckets, not *"


TRUST_RESTRICTING_KEYS = frozenset({"sts:externalid", "aws:sourceaccount", "aws:sourcearn", "aws:principalaccount",
                                    "aws:principalorgid", "aws:principalarn", "aws:sourceowner"})
"""Condition keys that narrow who may assume a role; an OIDC provider's own `<issuer>:sub` and `:aud` count too."""


def _restricts_assumption(statement: Statement) -> bool:
    keys = {key.lower() for operator in statement.conditions.values() if hasattr(operator, "keys")
            for key in operator.keys()}
    return bool(keys & TRUST_RESTRICTING_KEYS) or any(key.endswith((":sub", ":aud")) for key in keys)


SERVICES_WITHOUT_TRUST_CONDITION = {
    "s3.amazonaws.com": 'Amazon S3 User Guide, "Setting up permissions for live replication"',
    "ec2.amazonaws.com": 'Amazon EC2 User Guide, "IAM roles for Amazon EC2"',
    "lambda.amazonaws.com": 'AWS Lambda Developer Guide, "Defining Lambda function permissions with an execution role"',
}
"""Service principals whose trust policy, as AWS documents it, has no condition: AWS documents no aws:SourceAccount
or aws:SourceArn that the service sends when it assumes the role, and a condition on a key it does not send locks
it out. app-storage's documents.SERVICE_TRUST holds the same list (a unit test keeps the two equal)."""


def _trust_statements(resource: Any) -> Iterator[tuple[Statement, tuple[str, ...]]]:
    """Each statement of the role's trust policy, with its service principals where `Service` is its only kind."""
    document = policy_document(value(resource.props, "assumeRolePolicy"))
    for entry in items(document or {}, "Statement"):
        if not is_map(entry):
            continue
        principal = value(entry, "Principal")
        services = (tuple(s.lower() for s in as_strings(value(principal, "Service")))
                    if is_map(principal) and list(principal) == ["Service"] else ())
        for statement in statements({"Statement": [entry]}):
            yield statement, services


def role_trust_restricted(resource: Any, _config: Mapping) -> Iterator[str]:
    if resource.resource_type != "aws:iam/role:Role":
        return
    for statement, services in _trust_statements(resource):
        if not statement.allows:
            continue
        if statement.anonymous:
            yield f"{described(resource)}: {statement.label} must not let every principal (*) assume the role"
        elif _restricts_assumption(statement):
            continue
        elif services and all(service in SERVICES_WITHOUT_TRUST_CONDITION for service in services):
            continue  # AWS documents no condition these services supply: requiring one would lock them out
        else:
            yield (f"{described(resource)}: {statement.label} must restrict who assumes the role with a condition "
                   "(aws:SourceAccount for a service that sends it, such as ecs-tasks.amazonaws.com; sts:ExternalId "
                   "or aws:PrincipalAccount for accounts; the token's sub and aud for OIDC)")


ACCESS_KEY = "aws:iam/accessKey:AccessKey"
MINIO_SERVICE_ACCOUNT = "minio:index/iamServiceAccount:IamServiceAccount"


def _key_owner(key: Any, owner_input: str, owner_types: tuple[str, ...]) -> str | None:
    """The user a key belongs to, by name where known (the name it gives, or its user's), else by the user's URN."""
    named = value(key.props, owner_input)
    if isinstance(named, str):
        return named
    for dependency in dependencies_of(key, owner_input):
        if dependency.resource_type in owner_types:
            user_name = value(dependency.props, "name")
            return user_name if isinstance(user_name, str) else dependency.urn
    return None


def at_most_two_keys(stack: StackView, _config: Mapping) -> Iterator[Finding]:
    keys: dict[str, list[Any]] = {}
    for key in stack.of_type(ACCESS_KEY):
        if (owner := _key_owner(key, "user", ("aws:iam/user:User",))) is not None:
            keys.setdefault(owner, []).append(key)
    minio_users = {}
    for user in stack.of_type("minio:index/iamUser:IamUser"):
        name = value(user.props, "name")
        minio_users[name if isinstance(name, str) else user.urn] = user
    for account in stack.of_type(MINIO_SERVICE_ACCOUNT):
        owner = _key_owner(account, "targetUser", ("minio:index/iamUser:IamUser",))
        if owner is not None:
            keys.setdefault(owner, [minio_users[owner]] if owner in minio_users else []).append(account)
    for owner, owned in keys.items():
        if len(owned) > 2:
            who = owner.rsplit("::", 1)[-1]
            yield Finding(owned[-1].urn, f"user {who} must hold at most two live keys (the current and the "
                                         f"previous generation); it holds {len(owned)}", tuple(owned))


def _reached(stack: StackView, resource: Any) -> list[Any]:
    """The buckets and keys an identity policy reaches: what its `policy` input is built from, and every bucket
    its statements name."""
    dependencies = (getattr(resource, "property_dependencies", None) or {})
    reached = [d for key in ("policy", "inlinePolicies") for d in dependencies.get(key, [])
               if d.resource_type in (*BUCKET_TYPES, KMS_KEY)]
    for statement in identity_statements(resource):
        for arn in statement.resources:
            bucket = stack.bucket_named(name) if (name := bucket_name_of_arn(arn)) else None
            if bucket is not None:
                reached.append(bucket)
    return reached


def identity_own_app_only(stack: StackView, _config: Mapping) -> Iterator[Finding]:
    candidates = [r for r in stack.resources if _is_identity_policy(r) or r.resource_type in MINIO_POLICY_TYPES]
    for resource in candidates:
        app = app_of(resource)
        if app is None:
            continue  # not inside an app's component: nothing tells which app it serves
        foreign = [(target, owner) for target in _reached(stack, resource)
                   if (owner := app_of(target)) is not None and owner.urn != app.urn]
        for name in unique(f"{target.resource_type.rsplit(':', 1)[-1]} {target.name!r} (app {owner.name})"
                           for target, owner in foreign):
            yield Finding(resource.urn, f"{described(resource)} of app {app.name} must reach only its own app's "
                                        f"buckets and keys; it reaches {name}", (resource,))


RULES = (
    Rule("iam-no-wildcard-actions", "Checks whether an IAM policy allows `*`, a service-wide wildcard such as "
         "`s3:*`, `iam:*` or `kms:*`, or NotAction", ("FSBP IAM.1", "FSBP IAM.21", "CKV_AWS_62", "CKV_AWS_63"),
         "List the exact actions the app needs (app-storage's documents module keeps them as named constants).",
         Severity.CRITICAL, MANDATORY, no_wildcard_actions),
    Rule("iam-no-wildcard-resources", "Checks whether an IAM policy grants S3 or KMS actions on every resource (`*`)",
         ("FSBP KMS.1", "FSBP KMS.2", "CKV_AWS_355", "CKV_AWS_290"),
         "Name the bucket and object ARNs (arn:aws:s3:::bucket/prefix/*) and key ARNs the app uses.",
         Severity.HIGH, MANDATORY, no_wildcard_resources),
    Rule("iam-no-console-login", "Checks whether an app's IAM user has a console password", ("CKV2_AWS_22",),
         "Remove the aws.iam.UserLoginProfile: app users call the API with keys or a role, never the console.",
         Severity.HIGH, MANDATORY, no_console_login),
    Rule("iam-permissions-through-groups", "Checks whether an IAM user is granted permissions directly instead of "
         "through a group or role", ("FSBP IAM.2", "CKV_AWS_40"),
         "Attach the policy to a group (aws.iam.GroupPolicy) and add the user to it (aws.iam.UserGroupMembership).",
         Severity.LOW, MANDATORY, permissions_through_groups),
    Rule("iam-identity-own-app-only", "Checks whether each app's identity reaches only its own app's buckets and "
         "keys", (),
         "Grant each app's identity only the ARNs of its own buckets and keys.",
         Severity.HIGH, MANDATORY, identity_own_app_only, stack=True),
    Rule("iam-role-trust-restricted", "Checks whether each IAM role's trust policy names who may assume it and "
         "restricts them with a condition", ("CKV_AWS_60", "CKV_AWS_61"),
         "Trust one service (with aws:SourceAccount where AWS documents that it sends it, as for ECS tasks; for S3, "
         "EC2 and Lambda it documents none), named accounts with sts:ExternalId or aws:PrincipalAccount, or an "
         "OIDC provider conditioned on the token's aud and sub (app-storage: identity.trust).",
         Severity.HIGH, MANDATORY, role_trust_restricted),
    Rule("iam-user-at-most-two-keys", "Checks whether any user holds more than two live access keys",
         (),
         "Rotate by generation (app-storage: identity.rotation.generation): the previous key is deleted at the next "
         "raise, or at once with retirePrevious.", Severity.MEDIUM, MANDATORY, at_most_two_keys, stack=True),
    Rule("minio-user-policy-no-wildcards", "Checks whether a MinIO user or group policy allows `*` actions or every "
         "bucket", ("CKV_AWS_1 (MinIO)",),
         "Name the actions and the bucket/prefix ARNs the app uses.",
         Severity.HIGH, MANDATORY, minio_policy_no_wildcards),
)
