"""How the CloudFront rules find what a distribution uses when its inputs do not name it (issue 20).

A distribution's response headers policies and its origins' buckets are named by ids and domain names that a preview
of new resources does not know, and a raw program's auto-named buckets have no name at all: the rules then match by
the distribution's property dependencies (keyed by top-level input: `defaultCacheBehavior`, `orderedCacheBehaviors`,
`origins`) and judge only what that tells them. The mutations that must fail each rule are in cases.py."""

from __future__ import annotations

import pytest
from pulumi.runtime.rpc import UNKNOWN

from cli.offline import evaluate_stack
from cli.policy import PACK_DIR, AnalyzedResource, open_pack
from policies.rules.cloudfront import s3_bucket_name
from tests.helpers import ROOT, analyzed_stack, pack_config, resource_named, rule_messages
from tests.policies.cases import behaviour_reads_the_bucket, props

FAILOVER = "cloudfront-origin-failover"
PRELOAD = "cloudfront-hsts-preload"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
REPLICATED_PROGRAM = ROOT / "tests" / "fixtures" / "replicated_program"


def _messages(rule: str, analyzed: list) -> list[str]:
    return rule_messages(rule, analyzed, pack_config("prod").get(rule))


def _vista(analyzed: list) -> tuple[dict, dict]:
    distribution = props(analyzed, "vista-cdn-distribution")
    return distribution, distribution["originGroups"][0]


def _origin(distribution: dict, origin_id: str) -> dict:
    return next(origin for origin in distribution["origins"] if origin["originId"] == origin_id)


@pytest.mark.parametrize("domain, bucket", [
    ("app-storage-prod-vista.s3.us-east-1.amazonaws.com", "app-storage-prod-vista"),
    ("my.dotted.bucket.s3.eu-west-1.amazonaws.com", "my.dotted.bucket"),
    ("legacy.s3.amazonaws.com", "legacy"),
    ("legacy-region.s3-us-west-2.amazonaws.com", "legacy-region"),
    ("dual.s3.dualstack.us-gov-west-1.amazonaws.com", "dual"),
    ("site.s3-website-us-east-1.amazonaws.com", "site"),
    ("site.s3-website.eu-central-1.amazonaws.com", "site"),
    ("china.s3.cn-north-1.amazonaws.com.cn", "china"),
    ("Upper.S3.US-EAST-1.AMAZONAWS.COM.", "upper"),
    ("api.example.com", None),
    ("d111111abcdef8.cloudfront.net", None),
    ("bucket.s3.us-east-1.amazonaws.com.evil.example", None),
])
def test_an_s3_endpoint_names_its_bucket(domain, bucket):
    assert s3_bucket_name(domain) == bucket


def test_a_distribution_of_a_bucket_without_replica_needs_no_origin_group(prod_plan):
    """The rule asks for failover only where there is a replica to fail over to."""
    analyzed = analyzed_stack(prod_plan)
    distribution, group = _vista(analyzed)
    primary, secondary = (member["originId"] for member in group["members"])
    distribution.pop("originGroups")
    distribution["origins"] = [o for o in distribution["origins"] if o["originId"] != secondary]
    for behavior in [distribution["defaultCacheBehavior"], *distribution.get("orderedCacheBehaviors", [])]:
        behavior["targetOriginId"] = primary
    assert [m for m in _messages(FAILOVER, analyzed) if "'vista-cdn-distribution'" in m], "replicated: reported"
    analyzed.remove(resource_named(analyzed, "vista-replication-config"))
    assert not [m for m in _messages(FAILOVER, analyzed) if "'vista-cdn-distribution'" in m]


def _as_in_a_preview(analyzed: list, *origin_ids: str) -> None:
    """These origins' domains unknown (a raw program's `bucket.bucket_regional_domain_name` in a preview of a new
    bucket), and the distribution depending on the source bucket and its replica for `origins`."""
    resource = resource_named(analyzed, "vista-cdn-distribution")
    for origin_id in origin_ids:
        _origin(resource.properties, origin_id)["domainName"] = UNKNOWN
    resource.property_dependencies.setdefault("origins", []).extend(
        [resource_named(analyzed, "vista-storage-bucket").urn,
         resource_named(analyzed, "vista-replication-replica-bucket").urn])


def test_in_a_preview_origins_are_matched_by_the_origins_dependency(prod_plan):
    """Both domains unknown: either origin may read either bucket. The group pairing the two open origins passes, no
    group fails, and a behaviour that targets one of them directly is not judged (it may be the replica's)."""
    analyzed = analyzed_stack(prod_plan)
    distribution, group = _vista(analyzed)
    _as_in_a_preview(analyzed, *(member["originId"] for member in group["members"]))
    assert _messages(FAILOVER, analyzed) == []
    behaviour_reads_the_bucket(distribution, group)
    assert _messages(FAILOVER, analyzed) == []
    distribution.pop("originGroups")
    messages = _messages(FAILOVER, analyzed)
    assert len(messages) == 1 and "must be read through an origin group" in messages[0], messages


def test_in_a_preview_the_one_open_origin_is_the_bucket_left_unclaimed(prod_plan):
    """The replica's domain is known and names it; the source's is unknown, and the one bucket the distribution
    depends on that no named origin claims is the source: so a behaviour that bypasses the group is known to."""
    analyzed = analyzed_stack(prod_plan)
    distribution, group = _vista(analyzed)
    _as_in_a_preview(analyzed, group["members"][0]["originId"])
    assert _messages(FAILOVER, analyzed) == []
    behaviour_reads_the_bucket(distribution, group)
    assert ["must target origin group" in m for m in _messages(FAILOVER, analyzed)] == [True]


def test_unknown_origin_groups_are_not_judged(prod_plan):
    analyzed = analyzed_stack(prod_plan)
    distribution, group = _vista(analyzed)
    group["members"][1]["originId"] = UNKNOWN
    group["failoverCriteria"]["statusCodes"] = UNKNOWN
    assert _messages(FAILOVER, analyzed) == []
    distribution["originGroups"] = UNKNOWN
    assert _messages(FAILOVER, analyzed) == []


def test_a_policy_is_matched_by_the_behaviours_dependency_whatever_its_id(prod_plan):
    """A new policy's id is unknown in a preview; a policy used by an ordered behaviour only counts too."""
    analyzed = analyzed_stack(prod_plan)
    distribution = resource_named(analyzed, "eventhorizon-cdn-distribution")
    ordered = [d for d in distribution.property_dependencies["orderedCacheBehaviors"]
               if d not in distribution.property_dependencies["defaultCacheBehavior"]]
    assert ordered, "eventhorizon's areas send their own Cache-Control through their own policies"
    policy = next(r for r in analyzed if r.urn == ordered[0])
    behaviors = [distribution.properties["defaultCacheBehavior"], *distribution.properties["orderedCacheBehaviors"]]
    for behavior in behaviors:
        behavior["responseHeadersPolicyId"] = UNKNOWN
    assert _messages(PRELOAD, analyzed) == []
    policy.properties["securityHeadersConfig"]["strictTransportSecurity"]["preload"] = False
    assert _messages(PRELOAD, analyzed) == [
        f"aws:cloudfront/distribution:Distribution 'eventhorizon-cdn-distribution': response headers policy "
        f"{policy.name!r} must add the preload directive to Strict-Transport-Security (preload)"]
    policy.properties["securityHeadersConfig"]["strictTransportSecurity"]["preload"] = UNKNOWN
    assert _messages(PRELOAD, analyzed) == []


# --- a raw program: auto-named buckets, origins reading `bucket.bucket_regional_domain_name` ------------------------


@pytest.fixture(scope="module")
def replicated_plan():
    return evaluate_stack("prod", root=REPLICATED_PROGRAM)


def _raw_distribution(analyzed: list, origin_groups: bool, domain=None) -> AnalyzedResource:
    """What the engine sees of a distribution written over the fixture's auto-named bucket and replica, each origin's
    domain `bucket.bucket_regional_domain_name` (None offline, unknown in a preview of new buckets)."""
    source, replica = (resource_named(analyzed, name) for name in ("documents", "documents-replica"))
    behaviour = {"targetOriginId": "documents-failover" if origin_groups else "documents",
                 "viewerProtocolPolicy": "redirect-to-https", "allowedMethods": ["GET", "HEAD"],
                 "cachedMethods": ["GET", "HEAD"], "cachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}
    properties: dict = {
        "enabled": True, "webAclId": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/1",
        "origins": [{"originId": "documents", "domainName": domain, "originAccessControlId": "E2OAC"},
                    {"originId": "documents-replica", "domainName": domain, "originAccessControlId": "E2OAC"}],
        "defaultCacheBehavior": behaviour, "restrictions": {"geoRestriction": {"restrictionType": "none"}},
        "viewerCertificate": {"cloudfrontDefaultCertificate": True}}
    if origin_groups:
        properties["originGroups"] = [{"originId": "documents-failover",
                                       "failoverCriteria": {"statusCodes": [500, 502, 503, 504]},
                                       "members": [{"originId": "documents"}, {"originId": "documents-replica"}]}]
    stack = analyzed[0]
    return AnalyzedResource(f"urn:pulumi:prod::replicated-storage::{DISTRIBUTION}::documents-cdn", DISTRIBUTION,
                            "documents-cdn", True, properties, parent=stack.urn,
                            dependencies=[source.urn, replica.urn],
                            property_dependencies={"origins": [source.urn, replica.urn]})


@pytest.mark.parametrize("domain", [None, UNKNOWN], ids=["offline", "preview"])
def test_a_raw_program_s_auto_named_bucket_is_known_by_the_origins_dependency(replicated_plan, domain):
    analyzed = analyzed_stack(replicated_plan)
    analyzed.append(_raw_distribution(analyzed, origin_groups=True, domain=domain))
    assert _messages(FAILOVER, analyzed) == []
    analyzed[-1] = _raw_distribution(analyzed, origin_groups=False, domain=domain)
    assert _messages(FAILOVER, analyzed) == [
        "aws:cloudfront/distribution:Distribution 'documents-cdn': bucket 'documents' (origin 'documents' or "
        "'documents-replica') is replicated to bucket 'documents-replica', so it must be read through an origin "
        "group whose primary member is its origin and whose secondary member is an origin for the replica"]


def test_the_raw_program_s_failover_is_judged_through_the_protocol(replicated_plan):
    analyzed = analyzed_stack(replicated_plan)
    analyzed.append(_raw_distribution(analyzed, origin_groups=True, domain=UNKNOWN))
    with open_pack(replicated_plan, config_file=PACK_DIR / "prod.json") as pack:
        assert not [v for v in pack.analyze(analyzed) if v.policy == FAILOVER]
        analyzed[-1] = _raw_distribution(analyzed, origin_groups=False, domain=UNKNOWN)
        reported = [v for v in pack.analyze(analyzed) if v.policy == FAILOVER]
    assert [(v.level, v.urn) for v in reported] == [("mandatory", analyzed[-1].urn)]
