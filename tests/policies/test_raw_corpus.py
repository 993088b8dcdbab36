"""storage-guard on programs we did not write (issue 23).

tests/fixtures/raw_corpus is one Pulumi project holding several raw programs (plain pulumi-aws 7.51.1 and pulumi-minio
0.17.1 resources in the idioms of their docs, not this package's components): `corpus:program` picks one, and
`corpus:mutation` one insecure change of it. Each program must pass policies/prod.json with no mandatory violation,
in-process (the pack's rule functions on the offline evaluation) and over the Analyzer protocol (`make policy`, which
runs exactly `python -m cli policy --stack prod --dir tests/fixtures/raw_corpus --stack-file stacks/<program>.yaml`);
each mutation must fail exactly the rule it breaks, both ways."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from cli.offline import Plan, evaluate_stack
from cli.policy import PACK_DIR, analyzed_resources, check_in_process, open_pack
from tests.helpers import ROOT, analyzed_stack, pack_config, plan_program, rule_messages, run_cli

CORPUS = ROOT / "tests" / "fixtures" / "raw_corpus"
STACKS = CORPUS / "stacks"
PROD_CONFIG = PACK_DIR / "prod.json"
POLICY_INPUTS = ("policy", "assumeRolePolicy")

# program -> (what it shows, resource types it must declare: a program that declared nothing would pass vacuously)
PROGRAMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "cdn": ("an auto-named bucket behind CloudFront: Origin Access Control with the origin's domain from "
            "bucket_regional_domain_name, an origin group failing over to the replica, a custom ACM certificate in "
            "us-east-1, HSTS preload, a CLOUDFRONT-scope WAFv2 web ACL by ARN, standard logging v2, bucket policies "
            "and key policies (aws.kms.KeyPolicy) built with get_policy_document_output",
            ("aws:cloudfront/distribution:Distribution", "aws:cloudfront/originAccessControl:OriginAccessControl",
             "aws:wafv2/webAcl:WebAcl", "aws:acm/certificate:Certificate", "aws:kms/keyPolicy:KeyPolicy",
             "aws:cloudwatch/logDelivery:LogDelivery", "aws:s3/bucketReplicationConfig:BucketReplicationConfig")),
    "ecs-role": ("an app bucket and the role its ECS tasks assume (aws:SourceAccount and aws:SourceArn in the trust "
                 "policy) with an inline RolePolicy naming the bucket, its objects and its key",
                 ("aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:s3/bucket:Bucket")),
    "minio": ("a MinIO bucket shaped like app-storage's: protected, versioned, ILM, a public area readable under "
              "public/ only, and a user whose policy names its bucket",
              ("minio:index/s3Bucket:S3Bucket", "minio:index/ilmPolicy:IlmPolicy", "minio:index/iamPolicy:IamPolicy",
               "minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment")),
    "logged-buckets": ("aws.s3.BucketV2 and the *V2 settings resources: a named and an auto-named bucket logging "
                       "into an auto-named SSE-S3 log bucket known only by the dependency of target_bucket",
                       ("aws:s3/bucketV2:BucketV2", "aws:s3/bucketLoggingV2:BucketLoggingV2",
                        "aws:s3/bucketVersioningV2:BucketVersioningV2",
                        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
                        "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")),
    "policy-documents": ("a group's least-privilege policy composed from two policy documents "
                         "(source_policy_documents), given to a user by group membership",
                         ("aws:iam/group:Group", "aws:iam/groupPolicy:GroupPolicy",
                          "aws:iam/userGroupMembership:UserGroupMembership")),
}

# (program, mutation, the one rule it must fail, a fragment of the rule's message)
MUTATIONS = [
    ("cdn", "no-oac", "cloudfront-s3-origin-access-control", "S3 origin 'content' must be read through Origin Access "
     "Control"),
    ("cdn", "http-viewer", "cloudfront-viewer-https", "the default behaviour must redirect viewers to HTTPS"),
    ("cdn", "no-origin-group", "cloudfront-origin-failover", "must be read through an origin group"),
    ("cdn", "no-failover", "cloudfront-origin-failover", "must target origin group"),
    ("cdn", "hsts-without-preload", "cloudfront-hsts-preload", "must add the preload directive"),
    ("cdn", "no-waf", "cloudfront-waf", "must be protected by an AWS WAF web ACL"),
    ("cdn", "no-log-delivery", "cloudfront-access-logging", "must write standard logs"),
    ("cdn", "no-key-policy", "kms-explicit-key-policy", "'content-key' must declare its key policy"),
    ("ecs-role", "wildcard-action", "iam-no-wildcard-actions", "statement 'ReadAndWriteObjects' must name its actions"),
    ("ecs-role", "wildcard-resource", "iam-no-wildcard-resources", "statement 'ListTheBucket' must name the buckets"),
    ("ecs-role", "unconditioned-trust", "iam-role-trust-restricted", "must restrict who assumes the role"),
    ("minio", "anonymous-write", "minio-no-anonymous-write-or-list", "must not let anyone s3:PutObject"),
    ("minio", "public-read-acl", "minio-anonymous-read-prefixes-only", "must not publish the whole bucket"),
    ("minio", "star-action", "minio-user-policy-no-wildcards", "it allows s3:*"),
    ("minio", "unprotected", "data-protected-from-deletion", "'media' holds data and must be declared with `protect`"),
    ("logged-buckets", "no-logging", "s3-access-logging", "bucket 'raw-corpus-audit-trail': server access logging"),
    ("logged-buckets", "versioning-suspended", "s3-versioning-enabled", "bucket 'uploads': versioning must be "
     "Enabled; it is Suspended"),
    ("policy-documents", "wildcard-group-policy", "iam-no-wildcard-actions", "must name its actions; it allows *"),
    ("policy-documents", "user-policy", "iam-permissions-through-groups", "through a group or role"),
]


MUTATION_IDS = [f"{program}-{mutation}" for program, mutation, *_ in MUTATIONS]


def _stack_file(program: str, mutation: str | None, directory: Path) -> Path:
    """stacks/<program>.yaml, plus `corpus:mutation` for a mutation (written to a scratch file)."""
    base = STACKS / f"{program}.yaml"
    if mutation is None:
        return base
    path = directory / f"{program}.{mutation}.yaml"
    path.write_text(base.read_text() + f"  corpus:mutation: {mutation}\n")
    return path


def _plan(program: str, mutation: str | None, directory: Path) -> Plan:
    return evaluate_stack("prod", root=CORPUS, stack_file=_stack_file(program, mutation, directory))


def _mandatory_in_process(plan: Plan) -> dict[str, list[str]]:
    """Rule -> its messages, for every rule policies/prod.json makes mandatory that reports (`make plan`'s in-process
    check: the pack's rule functions, its config reconciliation and exceptions)."""
    found: dict[str, list[str]] = {}
    for violation in check_in_process(plan, PROD_CONFIG).mandatory:
        found.setdefault(violation.policy, []).append(violation.message)
    return found


def _make_policy(stack_file: Path) -> tuple[int, dict]:
    result = run_cli("policy", "--stack", "prod", "--dir", str(CORPUS), "--stack-file", str(stack_file), "--json")
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return result.returncode, json.loads(result.stdout)


def _mandatory_policies(report: dict) -> set[str]:
    return {v["policy"] for v in report["violations"] if v["level"] == "mandatory"}


@pytest.mark.parametrize("program", PROGRAMS)
def test_each_program_passes_prod_in_process(program, tmp_path):
    """The compliant program (see PROGRAMS for what each shows, and its module docstring) declares what it is about,
    every policy document it declares is known JSON (an unknown one would pass unchecked), and no mandatory rule of
    policies/prod.json reports anything."""
    plan = _plan(program, None, tmp_path)
    declared = {resource.type for resource in plan.resources}
    assert set(PROGRAMS[program][1]) <= declared, f"{program} must declare {PROGRAMS[program][1]}"
    for resource in plan.resources:
        for key in POLICY_INPUTS:
            if key in resource.inputs:
                assert isinstance(json.loads(resource.inputs[key]), dict), (resource.name, key)
    assert _mandatory_in_process(plan) == {}


@pytest.mark.parametrize("program", PROGRAMS)
def test_each_program_passes_make_policy_in_prod(program):
    """`make policy STACK=prod DIR=tests/fixtures/raw_corpus STACK_FILE=tests/fixtures/raw_corpus/stacks/<program>.yaml`
    exits 0 under policies/prod.json, with no mandatory violation over the Analyzer protocol."""
    code, report = _make_policy(STACKS / f"{program}.yaml")
    assert report["config"] == "policies/prod.json"
    assert (code, _mandatory_policies(report)) == (0, set()), report["violations"]


@pytest.mark.parametrize("program, mutation, rule, fragment", MUTATIONS, ids=MUTATION_IDS)
def test_each_mutation_fails_its_rule_in_process(program, mutation, rule, fragment, tmp_path):
    """One insecure change of a compliant program (its MUTATIONS say which) makes exactly the intended mandatory
    rule report, with the message naming what is wrong."""
    found = _mandatory_in_process(_plan(program, mutation, tmp_path))
    assert set(found) == {rule}, found
    assert any(fragment in message for message in found[rule]), found[rule]


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    """One storage-guard process for every mutation, configured with policies/prod.json as `make policy` configures
    it (each program's own `make policy` run is above)."""
    with open_pack(_plan("cdn", None, tmp_path_factory.mktemp("pack")), config_file=PROD_CONFIG) as session:
        yield session


@pytest.mark.parametrize("program, mutation, rule, fragment", MUTATIONS, ids=MUTATION_IDS)
def test_each_mutation_fails_over_the_protocol(pack, program, mutation, rule, fragment, tmp_path):
    """Over the Analyzer protocol the intended rule is the only mandatory one reported (so `make policy` exits 1)."""
    report = pack.report(analyzed_resources(_plan(program, mutation, tmp_path)))
    assert {v.policy for v in report.mandatory} == {rule}, report.violations
    assert any(fragment in v.message for v in report.mandatory)


def _declared_mutations(program: str) -> dict[str, str]:
    """The program's MUTATIONS literal (name -> what it breaks, ending with the rule in parentheses)."""
    tree = ast.parse((CORPUS / "programs" / f"{program.replace('-', '_')}.py").read_text())
    assignment = next(node for node in tree.body if isinstance(node, ast.Assign)
                      and any(isinstance(t, ast.Name) and t.id == "MUTATIONS" for t in node.targets))
    return ast.literal_eval(assignment.value)


def test_every_mutation_a_program_declares_is_tested_against_the_rule_it_names():
    """Each program lists its mutations with the rule each breaks; this file tests exactly those, with that rule."""
    tested = {case[:3] for case in MUTATIONS}
    declared = {(program, mutation, what.rsplit("(", 1)[1].rstrip(")"))
                for program in PROGRAMS for mutation, what in _declared_mutations(program).items()}
    assert tested == declared


def test_an_unprotected_minio_stack_belongs_under_dev_json(tmp_path):
    """prod asks of MinIO only what applies to it (protect, anonymous access, user policies, keys: the S3 rules judge
    aws:s3 buckets alone), so the minio program is checked in prod; a disposable MinIO stack like app-storage's dev
    stack (data unprotected: the `unprotected` mutation, which fails prod's data-protected-from-deletion) passes
    policies/dev.json, where every rule is advisory and protect is not required."""
    stack_file = _stack_file("minio", "unprotected", tmp_path)
    result = run_cli("policy", "--stack", "prod", "--dir", str(CORPUS), "--stack-file", str(stack_file),
                     "--config", str(PACK_DIR / "dev.json"), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["violations"] == []


def test_a_bucket_v2_with_inline_settings_is_judged_by_them():
    """pulumi-aws 7.51's `aws.s3.BucketV2` takes its inline settings as one-item lists (`versionings`, `loggings`,
    `serverSideEncryptionConfigurations`, a rule's `noncurrentVersionExpirations`): the rules read them as they read
    `aws.s3.Bucket`'s blocks, so a hardened BucketV2 is not told it has none."""
    import pulumi
    import pulumi_aws as aws

    def program(inline: bool) -> None:
        logs = aws.s3.BucketV2("logs", bucket="corpus-inline-logs")
        settings = dict(
            versionings=[{"enabled": True}],
            loggings=[{"target_bucket": "corpus-inline-logs", "target_prefix": "data/"}],
            server_side_encryption_configurations=[{"rules": [{"apply_server_side_encryption_by_defaults": [
                {"sse_algorithm": "aws:kms", "kms_master_key_id": "arn:aws:kms:us-east-1:123456789012:key/k"}],
                "bucket_key_enabled": True}]}],
            lifecycle_rules=[{"enabled": True, "abort_incomplete_multipart_upload_days": 7,
                              "noncurrent_version_expirations": [{"days": 90}]}]) if inline else {}
        aws.s3.BucketV2("data", bucket="corpus-inline-data", opts=pulumi.ResourceOptions(depends_on=[logs]),
                        **settings)

    rules = ("s3-versioning-enabled", "s3-default-encryption", "s3-access-logging", "s3-noncurrent-version-expiry")
    config = pack_config("prod")
    for inline in (True, False):
        analyzed = analyzed_stack(plan_program(lambda inline=inline: program(inline)))
        judged = {rule: [m for m in rule_messages(rule, analyzed, config.get(rule)) if "corpus-inline-data" in m]
                  for rule in rules}
        if inline:
            assert not any(judged.values()), judged
        else:  # an unversioned bucket has no noncurrent versions to expire
            assert all(judged[rule] for rule in rules[:3]) and not judged[rules[3]], judged


def test_every_program_of_the_corpus_is_tested_and_has_a_stack_file():
    """A program added to the corpus without an entry here would go unchecked without anything failing."""
    files = {path.stem.replace("_", "-") for path in (CORPUS / "programs").glob("*.py")}
    assert set(PROGRAMS) == files == {path.stem for path in STACKS.glob("*.yaml")}
