"""EdgeFirewall: the one AWS WAF web ACL every CloudFront distribution of a stack sits behind (`cdn.waf: managed`).

Defaults (behaviour):
- Scope CLOUDFRONT, declared in us-east-1 through pulumi-aws 7's per-resource region: WAF keeps CloudFront-scope
  web ACLs only there (AWS WAF Developer Guide, "Using AWS WAF with Amazon CloudFront"; pulumi-aws WebAcl
  `scope`: "To work with CloudFront, you must also specify the region us-east-1").
- One web ACL per stack, not per distribution: a web ACL costs a monthly fee of its own and one per rule, and
  every distribution may use the same one.
- Requests are allowed unless a rule blocks them. The rules, in priority order: AWS's managed IP reputation list,
  the core rule set (OWASP-style protections) and known bad inputs (the AWS managed rule groups that carry no
  subscription fee), each with its own actions (`override_action: none`); then a rate-based rule that blocks an
  IP address over `RATE_LIMIT_PER_5_MINUTES` requests in the default five-minute window.
- CloudWatch metrics and sampled requests for the web ACL and every rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.aws.cdn import CLOUDFRONT_REGION

RATE_LIMIT_PER_5_MINUTES = 2000
"""Requests one IP address may make in five minutes before the rate-based rule blocks it (AWS's default window)."""
MANAGED_RULE_GROUPS = ("AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet",
                       "AWSManagedRulesKnownBadInputsRuleSet")
"""AWS managed rule groups (vendor AWS) with no subscription fee, evaluated in this order."""


def _visibility(metric_name: str) -> aws.wafv2.WebAclVisibilityConfigArgsDict:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric_name, "sampled_requests_enabled": True}


def web_acl_rules(name: str) -> list[aws.wafv2.WebAclRuleArgsDict]:
    """The managed rule groups, then the rate limit (pure: the policy pack's tests and the README read it)."""
    rules: list[aws.wafv2.WebAclRuleArgsDict] = [
        {"name": group, "priority": priority, "override_action": {"none": {}},
         "statement": {"managed_rule_group_statement": {"vendor_name": "AWS", "name": group}},
         "visibility_config": _visibility(f"{name}-{group}")}
        for priority, group in enumerate(MANAGED_RULE_GROUPS)]
    rules.append({"name": "rate-limit-per-ip", "priority": len(MANAGED_RULE_GROUPS), "action": {"block": {}},
                  "statement": {"rate_based_statement": {"limit": RATE_LIMIT_PER_5_MINUTES,
                                                         "aggregate_key_type": "IP"}},
                  "visibility_config": _visibility(f"{name}-rate-limit-per-ip")})
    return rules


@dataclass(frozen=True)
class EdgeFirewallArgs:
    web_acl_name: str
    """The web ACL's name (`naming.web_acl_name`)."""
    tags: Mapping[str, str] = field(default_factory=dict)


class EdgeFirewall(pulumi.ComponentResource):
    web_acl_arn: pulumi.Output[str]
    """What a distribution's `web_acl_id` takes for WAFv2."""

    def __init__(self, name: str, args: EdgeFirewallArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("app-storage:index:EdgeFirewall", name, None, opts)
        web_acl = aws.wafv2.WebAcl(
            f"{name}-web-acl", name=args.web_acl_name, scope="CLOUDFRONT", region=CLOUDFRONT_REGION,
            description="app-storage: managed rule groups and a per-IP rate limit in front of the CDN",
            default_action={"allow": {}}, rules=web_acl_rules(args.web_acl_name),
            visibility_config=_visibility(args.web_acl_name), tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self))
        self.web_acl_arn = web_acl.arn
        self.register_outputs({"web_acl_arn": self.web_acl_arn})
