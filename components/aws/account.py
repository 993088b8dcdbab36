"""The account the stack deploys into, looked up once per stack run."""

from __future__ import annotations

import weakref

import pulumi
import pulumi_aws as aws

_BY_STACK: weakref.WeakKeyDictionary[pulumi.Resource, pulumi.Output[str]] = weakref.WeakKeyDictionary()


def account_id() -> pulumi.Output[str]:
    """The caller identity's account id, one `aws:index/getCallerIdentity` per stack run (every component of the
    stack uses the default provider's account; a lookup per bucket and key was the same answer thousands of times
    in a large stack)."""
    root = pulumi.runtime.get_root_resource()
    if root is None:
        return aws.get_caller_identity_output().account_id
    if root not in _BY_STACK:
        _BY_STACK[root] = aws.get_caller_identity_output().account_id
    return _BY_STACK[root]
