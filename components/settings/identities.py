"""The rules of an app's identity: a user with rotated keys, or (on AWS) a role that a named platform assumes."""

from __future__ import annotations

import re
from typing import Any

from components.settings.readers import (
    Problems,
    check_known,
    key_path,
    read_bool,
    read_count,
    read_map,
    read_str,
    read_str_list,
)
from components.settings.schema import (
    IDENTITY_DEFAULTS,
    IDENTITY_KINDS,
    MAX_KEY_GENERATION,
    OIDC_DEFAULTS,
    OIDC_PROVIDER_ARN,
    ROTATION_DEFAULTS,
    TRUST_DEFAULTS,
    TRUSTED_PRINCIPAL,
    TRUSTED_SERVICES,
)
from components.settings.types import IdentitySettings, Trust

KEYLESS_DIALECTS_REFUSED = ("s3",)
"""Dialects whose client, as the app builds it, needs a key in the `.env` (minio-py's Minio(endpoint, key, secret))."""


def identity_warnings(path: str, identity: IdentitySettings) -> list[str]:
    trust = identity.trust
    if trust is not None and trust.principals and not trust.external_id:
        return [f"{key_path(path, 'trust')}: principals may assume the role without an external id; give "
                "`externalId` (the policy pack's iam-role-trust-restricted requires a restricting condition)."]
    return []


def read_identity(p: Problems, path: str, data: Any) -> IdentitySettings:
    """One `identity` map (the stack's default or an app's own), checked on its own terms."""
    if data is None:
        return IdentitySettings()
    if not isinstance(data, dict):
        p.add(path, data, "must be an identity object", "Write e.g. `{kind: user}` or `{kind: role, trust: {...}}`.")
        return IdentitySettings()
    check_known(p, path, data, IDENTITY_DEFAULTS)
    kind = read_str(p, path, data, "kind", IDENTITY_DEFAULTS, IDENTITY_KINDS) or "user"
    rotation = read_map(p, path, data, "rotation", IDENTITY_DEFAULTS)
    trust_data = data.get("trust")
    generation, retire_previous = 1, False
    if rotation:
        rotation_path = key_path(path, "rotation")
        check_known(p, rotation_path, rotation, ROTATION_DEFAULTS)
        generation = read_count(p, rotation_path, rotation, "generation", ROTATION_DEFAULTS, 1, MAX_KEY_GENERATION,
                                "generations")
        retire_previous = read_bool(p, rotation_path, rotation, "retirePrevious", ROTATION_DEFAULTS)
        if kind == "role":
            p.add(rotation_path, rotation, "rotates keys, and a role has none",
                  "Remove `rotation`, or use `kind: user`.")
    trust = None
    if kind == "role":
        trust = read_trust(p, key_path(path, "trust"), trust_data)
    elif trust_data is not None:
        p.add(key_path(path, "trust"), trust_data, "is only for `kind: role`",
              "Remove `trust`, or set `kind: role`.")
    return IdentitySettings(kind=kind, generation=generation, retire_previous=retire_previous, trust=trust)


def read_trust(p: Problems, path: str, data: Any) -> Trust | None:
    if not isinstance(data, dict) or not data:
        p.add(path, data, "must say who may assume the role",
              "Give exactly one of `service: ecs-tasks.amazonaws.com`, `oidc: {providerArn, audience, subjects}` or "
              "`principals: [<account or role ARN>]`.")
        return None
    check_known(p, path, data, TRUST_DEFAULTS)
    named = [key for key in ("service", "oidc", "principals") if data.get(key) is not None]
    if len(named) != 1:
        p.add(path, data, f"names {len(named)} kinds of trust ({', '.join(named) or 'none'})",
              "Keep exactly one of `service`, `oidc` or `principals`: a role trusts one kind of caller.")
        return None
    external_id = read_str(p, path, data, "externalId", TRUST_DEFAULTS)
    if external_id is not None and named != ["principals"]:
        p.add(key_path(path, "externalId"), external_id, "applies only to `principals`",
              "Remove `externalId`, or trust `principals`.")
    if named == ["service"]:
        return Trust(service=read_str(p, path, data, "service", TRUST_DEFAULTS, TRUSTED_SERVICES))
    if named == ["principals"]:
        principals = read_str_list(p, path, data, "principals", TRUST_DEFAULTS)
        for index, principal in enumerate(principals):
            if not TRUSTED_PRINCIPAL.match(principal):
                p.add(key_path(key_path(path, "principals"), index), principal,
                      "is not an account id or an IAM role, user or account-root ARN (a `*` would trust anyone)",
                      "Write e.g. 123456789012 or arn:aws:iam::123456789012:role/deployer.")
        if not principals:
            p.add(key_path(path, "principals"), principals, "names nobody", "List at least one principal.")
        return Trust(principals=tuple(principals), external_id=external_id)
    oidc_path = key_path(path, "oidc")
    oidc = data["oidc"]
    if not isinstance(oidc, dict):
        p.add(oidc_path, oidc, "must be an OIDC object", "Write `{providerArn: ..., audience: ..., subjects: [...]}`.")
        return None
    check_known(p, oidc_path, oidc, OIDC_DEFAULTS)
    for required in ("providerArn", "audience", "subjects"):
        if not oidc.get(required):
            p.add(oidc_path, oidc, f"has no {required}", f"Add `{required}`: the role trusts only tokens that match.")
    provider_arn = read_str(p, oidc_path, oidc, "providerArn", OIDC_DEFAULTS)
    if provider_arn and not OIDC_PROVIDER_ARN.match(provider_arn):
        p.add(key_path(oidc_path, "providerArn"), provider_arn, "is not an IAM OIDC provider ARN",
              "Use arn:aws:iam::<account>:oidc-provider/<issuer host and path>.")
    subjects = read_str_list(p, oidc_path, oidc, "subjects", OIDC_DEFAULTS)
    for index, subject in enumerate(subjects):
        problem = oidc_subject_problem(subject)
        if problem:
            p.add(key_path(key_path(oidc_path, "subjects"), index), subject, *problem)
    return Trust(oidc_provider_arn=provider_arn, oidc_audience=read_str(p, oidc_path, oidc, "audience", OIDC_DEFAULTS),
                 oidc_subjects=tuple(subjects))


GITHUB_SUBJECT = "repo:"
"""GitHub Actions' subject: repo:<owner>/<repo>:<context> (GitHub Docs, "OpenID Connect reference", subject claims)."""
EKS_SUBJECT = "system:serviceaccount:"
"""An EKS pod's subject: system:serviceaccount:<namespace>:<service account> (Amazon EKS User Guide, "Assign IAM roles
to Kubernetes service accounts")."""
SUBJECT_WILDCARDS = re.compile(r"[*?]")
"""What StringLike (the trust policy's `sub` operator) matches as a wildcard."""

_GITHUB_ANY_OWNER = (
    "has no concrete owner (repo:<owner>/..., the owner without a wildcard), so workflows of every GitHub owner it "
    "matches may assume the role",
    "Name the owner (organization or user) without a wildcard: repo:<owner>/<repo>:ref:refs/heads/main, or "
    "repo:<owner>/*:* for every repository of that owner.")
_EKS_ANY_NAMESPACE = (
    "has no concrete namespace (system:serviceaccount:<namespace>:..., the namespace without a wildcard), so service "
    "accounts of every namespace it matches may assume the role",
    "Name the namespace without a wildcard: system:serviceaccount:<namespace>:<service account>, or "
    "system:serviceaccount:<namespace>:* for every service account of that namespace.")


def oidc_subject_problem(subject: str) -> tuple[str, str] | None:
    """(problem, fix) for a subject that trusts beyond one GitHub owner or one EKS namespace, else None.

    The provider is told by the subject's shape: `repo:` is GitHub's, `system:serviceaccount:` EKS's, and a
    wildcard standing where either prefix is still being spelled (`repo*`, `system:*`, a leading `*`) reaches them
    too. Any other shape may hold wildcards, but not be only wildcards."""
    if subject.strip("*") == "":
        return ("matches every workload the provider signs tokens for",
                "Name the subject, e.g. system:serviceaccount:<namespace>:<service account> or "
                "repo:<owner>/<repo>:ref:refs/heads/main.")
    literal = SUBJECT_WILDCARDS.split(subject, maxsplit=1)[0]
    wild = literal != subject
    if subject.startswith(GITHUB_SUBJECT):
        owner, slash, _ = subject[len(GITHUB_SUBJECT):].partition("/")
        if SUBJECT_WILDCARDS.search(owner):
            return _GITHUB_ANY_OWNER
        if not slash or not owner:
            return ("is not a GitHub subject repo:<owner>/<repo>:<context>, so no workflow's token matches it",
                    "Write e.g. repo:<owner>/<repo>:ref:refs/heads/main or repo:<owner>/<repo>:environment:<name>.")
    elif subject.startswith(EKS_SUBJECT):
        namespace, colon, _ = subject[len(EKS_SUBJECT):].partition(":")
        if SUBJECT_WILDCARDS.search(namespace):
            return _EKS_ANY_NAMESPACE
        if not colon or not namespace:
            return ("is not an EKS subject system:serviceaccount:<namespace>:<service account>, so no pod's token "
                    "matches it", "Write e.g. system:serviceaccount:chat:chat-api.")
    elif wild and not literal:
        return ("starts with a wildcard, so it matches every repository's or service account's subject that ends "
                "the same way", "Start with the owner or namespace, e.g. repo:<owner>/<repo>:ref:refs/heads/main or "
                "system:serviceaccount:<namespace>:<service account>.")
    elif wild and GITHUB_SUBJECT.startswith(literal):
        return _GITHUB_ANY_OWNER
    elif wild and EKS_SUBJECT.startswith(literal):
        return _EKS_ANY_NAMESPACE
    return None


def check_identity_fits(p: Problems, path: str, identity: IdentitySettings, backend: str, dialect: str) -> None:
    """What an identity needs of the stack and the app: a role exists only on AWS, and only for clients that find
    credentials without a key in the `.env`."""
    if identity.kind != "role":
        return
    if backend != "aws":
        p.add(key_path(path, "kind"), "role", f"needs AWS IAM, and this stack's backend is {backend}",
              "Use `kind: user` here (keys rotate by generation), or declare the identity per stack.")
    elif dialect in KEYLESS_DIALECTS_REFUSED:
        p.add(key_path(path, "kind"), "role", f"leaves the {dialect} dialect without the key its client needs "
              "(minio-py's Minio(endpoint, access_key, secret_key))", "Use `kind: user` for this app.")
