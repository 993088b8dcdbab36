"""The account a component deploys into, looked up once per stack run and AWS provider."""

from __future__ import annotations

import weakref

import pulumi
import pulumi_aws as aws

CALLER_IDENTITY = "aws:index/getCallerIdentity:getCallerIdentity"
_BY_STACK: weakref.WeakKeyDictionary[pulumi.Resource, dict[object, pulumi.Output[str]]] = weakref.WeakKeyDictionary()


def account_id(parent: pulumi.Resource) -> pulumi.Output[str]:
    """The account of the AWS provider `parent` deploys with (its own, or the default one): one
    `getCallerIdentity` per stack run and provider (a lookup per bucket and key was the same answer thousands of
    times in a large stack). A caller of the component package may hand AppStorage a provider of another account."""
    def lookup() -> pulumi.Output[str]:
        return aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=parent)).account_id
    root = pulumi.runtime.get_root_resource()
    if root is None:
        return lookup()
    by_provider = _BY_STACK.setdefault(root, {})
    provider = parent.get_provider(CALLER_IDENTITY)
    if provider not in by_provider:
        by_provider[provider] = lookup()
    return by_provider[provider]
