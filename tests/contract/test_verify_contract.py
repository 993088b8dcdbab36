"""`make verify` against apps provisioned on moto's server from the prod stack's own plan (public areas served
straight from S3, as with `publicWithoutCdn`, so anonymous reads reach the server).

The prod (AWS) shape stays on moto: per-bucket CORS, replication statuses and ADMIN=1 drift of AWS-only settings
(ownership, public access block) are what SeaweedFS does not answer. Listing limits, anonymous reads through a
bucket policy and unsigned refusals, which moto cannot enforce, are checked on SeaweedFS instead
(tests/contract/test_verify_seaweed.py).

What moto cannot model is left out of the setup and said here:
- moto applies a bucket policy's Deny without its condition, so the TLS-only statement (Deny unless
  aws:SecureTransport) would refuse every anonymous request over plain HTTP: it is not installed;
- moto ignores the `s3:prefix` condition of the identity's ListBucket grant, so `listing-limited-to-areas` is
  skipped (SKIP=, reported as skipped) where the app is healthy, and shown failing where it is not;
- moto answers unsigned and presigned requests with 500 while it enforces IAM: `UnsignedRelay` lets those
  through with IAM relaxed for that one request (every answer is still moto's);
- moto 5.2.5 stores a bucket's replication configuration (`put_bucket_replication` in moto/s3/models.py) but never
  replicates and never sets `x-amz-replication-status`: `ReplicationRelay` adds to moto's HeadObject answers for
  `verify`'s replication scratch object the statuses S3 gives a source object (S3 User Guide, "Getting replication
  status information", https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html: PENDING,
  then COMPLETED or FAILED; none where no rule covers the object), by default PENDING then COMPLETED.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.verify import SCRATCH_PREFIX
from components import dialects
from tests.contract.moto_server import REGION, MotoServer, Relay, UnsignedRelay
from tests.helpers import run_cli

SKIP_LISTING = ("--skip", "listing-limited-to-areas")
FAST_REPLICATION = ("--replication-timeout", "2", "--replication-poll", "0.05")
"""The `replication` check's bound and poll interval in these tests: no test waits for long."""


class ReplicationRelay(Relay):
    """A pass-through in front of `upstream_url` that answers each HeadObject of `verify`'s replication scratch
    object with the replication status S3 would give it, since moto sets none: successive HEADs of one object get
    `statuses` in turn, the last repeating (none: no header, as moto answers). Every other answer is moto's.

    `with ReplicationRelay(url) as relay:` - `relay.url`; `with relay.answering("PENDING", "FAILED"):` for a block.
    With `replica=(client, bucket)` the first COMPLETED also copies the object into that bucket, as S3 would."""

    DEFAULT = ("PENDING", "COMPLETED")

    def __init__(self, upstream_url: str):
        super().__init__(urllib.parse.urlsplit(upstream_url).port or 80)
        self.statuses: tuple[str, ...] = self.DEFAULT
        self.replica: tuple | None = None
        self.heads: Counter[str] = Counter()
        """HEADs of replication scratch objects, by path."""
        self.copied: list[str] = []
        """Objects copied into a replica bucket."""

    @contextlib.contextmanager
    def answering(self, *statuses: str, replica: tuple | None = None) -> Iterator[None]:
        self.statuses, self.replica = statuses, replica
        try:
            yield
        finally:
            self.statuses, self.replica = self.DEFAULT, None

    def status_for(self, method: str, path: str, answered: int) -> str | None:
        bucket, _, key = urllib.parse.unquote(urllib.parse.urlsplit(path).path).lstrip("/").partition("/")
        if method != "HEAD" or answered != 200 or SCRATCH_PREFIX not in key or not key.endswith("-replication"):
            return None
        seen, self.heads[path] = self.heads[path], self.heads[path] + 1
        status = self.statuses[min(seen, len(self.statuses) - 1)] if self.statuses else None
        if status == "COMPLETED" and self.replica is not None and seen == self.statuses.index("COMPLETED"):
            client, replica_bucket = self.replica
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
            client.put_object(Bucket=replica_bucket, Key=key, Body=body)
            self.copied.append(f"{replica_bucket}/{key}")
        return status

    def extra_headers(self, command: str, path: str, status: int) -> dict[str, str]:
        replication_status = self.status_for(command, path, status)
        return {"x-amz-replication-status": replication_status} if replication_status else {}


def _inputs(plan, name: str) -> dict:
    return next(r.inputs for r in plan.resources if r.name == name)


def _statements(document: str, without: str = "") -> list[dict]:
    return [s for s in json.loads(document)["Statement"] if s.get("Sid") != without]


class Provisioned:
    """The apps of a plan, created on moto as the stack declares them, and their outputs and `.env` files."""

    def __init__(self, server: MotoServer, relay: ReplicationRelay, plan, tmp: Path):
        self.server, self.relay, self.plan, self.tmp = server, relay, plan, tmp
        self.outputs = json.loads(json.dumps(plan.outputs))
        self.s3 = server.client("s3")
        iam = server.client("iam")
        iam.create_user(UserName="operator")
        iam.put_user_policy(UserName="operator", PolicyName="all", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="operator")["AccessKey"]
        self.admin = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
        """An operator's credentials: they still work once moto enforces IAM."""

    def operator(self, service: str):
        return self.server.client(service, self.admin["AWS_ACCESS_KEY_ID"], self.admin["AWS_SECRET_ACCESS_KEY"])

    def create(self, app: str, policy: list[dict] | None = None, bucket_policy: list[dict] | None = None) -> None:
        connection = self.outputs[f"{app}"]["connection"]
        bucket = connection["bucket"]
        group_policy = {"Version": "2012-10-17", "Statement": policy if policy is not None else _statements(
            _inputs(self.plan, f"{app}-identity-group-policy")["policy"])}
        key_id, secret = self.server.create_app(bucket, f"{app}-user", group_policy, through_group=True)
        statements = bucket_policy if bucket_policy is not None else _statements(
            _inputs(self.plan, f"{app}-storage-policy")["policy"], without="DenyInsecureTransport")
        if statements:
            self.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17",
                                                                        "Statement": statements}))
        cors = [r for r in self.plan.resources if r.name == f"{app}-storage-cors"]
        if cors:
            self.s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
                {"AllowedOrigins": rule["allowedOrigins"], "AllowedMethods": rule["allowedMethods"],
                 "AllowedHeaders": rule.get("allowedHeaders", [])} for rule in cors[0].inputs["corsRules"]]})
        connection.update(endpoint=self.relay.url, path_style=True, use_tls=False, access_key_id=key_id,
                          public_base_url=f"{self.relay.url}/{bucket}" if connection["public_areas"] else None)
        self.outputs[f"{app}_secret_access_key"] = secret

    def env(self, app: str, **changes) -> Path:
        connection = {**self.outputs[app]["connection"], "secret_access_key": self.outputs[f"{app}_secret_access_key"],
                      **changes}
        path = self.tmp / f"{app}-{len(list(self.tmp.glob('*.env')))}.env"
        values = dialects.render_env(self.outputs[app]["dialect"], connection)
        path.write_text("".join(f"{name}='{value}'\n" for name, value in values.items()))
        return path

    def outputs_file(self) -> Path:
        path = self.tmp / "outputs.json"
        path.write_text(json.dumps(self.outputs))
        return path

    def verify(self, app: str, *extra: str, env_file: Path | None = None, environ: dict | None = None):
        return run_cli("verify", "--env", str(env_file or self.env(app)), "--from", str(self.outputs_file()),
                       "--json", *FAST_REPLICATION, *extra, env=environ)


@pytest.fixture(scope="module")
def provisioned(shown_plans, tmp_path_factory):
    with MotoServer(env={"MOTO_DISABLE_GLOBAL_CORS": "true"}) as server, UnsignedRelay(server) as unsigned, \
            ReplicationRelay(unsigned.url) as relay:
        apps = Provisioned(server, relay, shown_plans["prod-without-cdn"], tmp_path_factory.mktemp("verify"))
        for app in ("eventhorizon", "chat", "vista"):
            apps.create(app)
        server.enforce_iam()
        apps.s3 = apps.operator("s3")
        yield apps


def _report(result) -> dict:
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def _status(report: dict) -> dict[str, str]:
    return {check["name"]: check["status"] for check in report["checks"]}


def _detail(report: dict, name: str) -> str:
    return next(check["detail"] for check in report["checks"] if check["name"] == name)


def test_a_healthy_app_passes_every_check(provisioned):
    result = provisioned.verify("eventhorizon", *SKIP_LISTING)
    report = _report(result)
    assert result.returncode == 0, json.dumps(report["checks"], indent=1)
    statuses = _status(report)
    assert statuses == {
        "credentials": "pass", "bucket": "pass",
        "area media: put, head, get, delete": "pass", "area static: put, head, get, delete": "pass",
        "area private: put, head, get, delete": "pass",
        "listing-limited-to-areas": "skipped", "write-outside-areas-refused": "pass", "other-bucket-refused": "pass",
        "presigned-get": "pass", "unsigned-get-refused": "pass", "public-read media": "pass",
        "public-read static": "pass", "cors-allowed-origin": "pass", "cors-other-origin-refused": "pass",
        "replication": "pass"}
    assert report["overall_status"] == "degraded"  # one check skipped on request
    assert all(isinstance(check["milliseconds"], int) and check["detail"] for check in report["checks"])
    secret = provisioned.outputs["eventhorizon_secret_access_key"]
    assert secret not in result.stdout + result.stderr
    assert "verify: presigned-get pass" in result.stderr  # a progress line per check
    assert _detail(report, "replication").startswith(
        "COMPLETED after 0 s: replicated to app-storage-prod-eventhorizon-replica (us-west-2)")
    leftovers = provisioned.s3.list_objects_v2(Bucket="app-storage-prod-eventhorizon").get("Contents", [])
    assert leftovers == [], "every scratch object is deleted"


def test_the_table_lists_every_check(provisioned):
    result = run_cli("verify", "--env", str(provisioned.env("chat")), "--from", str(provisioned.outputs_file()),
                     *SKIP_LISTING, *FAST_REPLICATION)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("degraded: app chat, bucket app-storage-prod-chat")
    assert any(line.startswith("area uploads: put, head, get, delete  pass") for line in lines)
    assert any(line.startswith("public-read ") and " not applicable " in line for line in lines)


def test_a_wrong_secret_fails_the_credentials_check(provisioned):
    report = _report(provisioned.verify("chat", *SKIP_LISTING,
                                        env_file=provisioned.env("chat", secret_access_key="not-the-secret")))
    assert report["overall_status"] == "failing"
    assert _status(report)["credentials"] == "fail"
    assert "not-the-secret" not in json.dumps(report)


def test_a_missing_bucket_fails_the_bucket_check(provisioned):
    provisioned.s3.delete_bucket(Bucket="app-storage-prod-vista")
    try:
        report = _report(provisioned.verify("vista", *SKIP_LISTING))
    finally:
        provisioned.s3.create_bucket(Bucket="app-storage-prod-vista")
    assert _status(report)["bucket"] == "fail" and report["overall_status"] == "failing"


def test_an_identity_that_can_write_outside_its_areas_fails(provisioned):
    bucket = "app-storage-prod-chat"
    provisioned.operator("iam").put_group_policy(
        GroupName="chat-user", PolicyName="access", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [f"arn:aws:s3:::{bucket}"]},
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
             "Resource": [f"arn:aws:s3:::{bucket}/*"]}]}))
    try:
        report = _report(provisioned.verify("chat"))
    finally:
        provisioned.operator("iam").put_group_policy(
            GroupName="chat-user", PolicyName="access", PolicyDocument=json.dumps({"Version": "2012-10-17",
                "Statement": _statements(_inputs(provisioned.plan, "chat-identity-group-policy")["policy"])}))
    statuses = _status(report)
    assert statuses["write-outside-areas-refused"] == "fail" and statuses["listing-limited-to-areas"] == "fail"
    assert provisioned.s3.list_objects_v2(Bucket=bucket).get("Contents", []) == [], "the stray write is removed"


def test_a_private_object_readable_anonymously_fails(provisioned):
    bucket = "app-storage-prod-chat"
    provisioned.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    try:
        report = _report(provisioned.verify("chat", *SKIP_LISTING))
    finally:
        provisioned.s3.delete_bucket_policy(Bucket=bucket)
    assert _status(report)["unsigned-get-refused"] == "fail"
    assert "readable anonymously" in next(c["detail"] for c in report["checks"] if c["name"] == "unsigned-get-refused")


def test_drift_is_reported_by_name_with_admin_credentials(provisioned):
    """With ADMIN=1 the live bucket is compared with what the prod stack declares for it."""
    bucket, s3 = "app-storage-prod-chat", provisioned.s3
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "k"},
         "BucketKeyEnabled": True}]})
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [
        {"ObjectOwnership": "BucketOwnerEnforced"}]})
    declared = _inputs(provisioned.plan, "chat-storage-lifecycle")["rules"]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": rule["id"], "Status": "Enabled", "Filter": {"Prefix": rule["filter"]["prefix"]},
         "Expiration": {"Days": 30}} for rule in declared]})
    s3.put_bucket_policy(Bucket=bucket, Policy=_inputs(provisioned.plan, "chat-storage-policy")["policy"])
    admin = {**os.environ, **provisioned.admin, "AWS_DEFAULT_REGION": REGION}
    try:
        healthy = _status(_report(provisioned.verify("chat", *SKIP_LISTING, "--admin", "--stack", "prod",
                                                     environ=admin)))
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
        drifted = _report(provisioned.verify("chat", *SKIP_LISTING, "--admin", "--stack", "prod", environ=admin))
    finally:
        s3.delete_bucket_policy(Bucket=bucket)
    drift = {name: status for name, status in healthy.items() if name.startswith("drift: ")}
    assert drift == {f"drift: {name}": "pass" for name in (
        "versioning", "encryption", "public access block", "ownership", "lifecycle rule ids", "policy statements")}
    assert _status(drifted)["drift: versioning"] == "fail" and drifted["overall_status"] == "failing"
    detail = next(c["detail"] for c in drifted["checks"] if c["name"] == "drift: versioning")
    assert detail == "declared Enabled, live Suspended"


def test_an_unreachable_endpoint_exits_2_with_one_line_within_the_timeout(provisioned):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    env_file = provisioned.env("chat", endpoint=f"http://127.0.0.1:{closed_port}")
    started = time.monotonic()
    result = run_cli("verify", "--env", str(env_file), "--from", str(provisioned.outputs_file()))
    assert time.monotonic() - started < 30
    assert result.returncode == 2 and result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if not line.startswith("verify: ")]
    assert len(errors) == 1 and "cannot be reached" in errors[0] and "Traceback" not in result.stderr


def test_a_whole_offline_plan_serves_as_the_outputs(provisioned, prod_plan, tmp_path):
    """FROM= takes an offline plan too (no STACK= needed); here its apps point at an endpoint that is not there."""
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps({**prod_plan.as_dict(), "policy": {}}))
    result = run_cli("verify", "--env", str(provisioned.env("chat", endpoint="http://127.0.0.1:9")), "--from",
                     str(plan_file))
    assert result.returncode == 2 and "cannot be reached" in result.stderr, result.stderr


def test_bad_input_exits_2(tmp_path):
    env_file = tmp_path / "x.env"
    env_file.write_text("SOMETHING=else\n")
    result = run_cli("verify", "--env", str(env_file))
    assert result.returncode == 2 and "name its dialect" in result.stderr
    missing = run_cli("verify", "--env", str(tmp_path / "none.env"))
    assert missing.returncode == 2 and "no such .env file" in missing.stderr


# --- replication -----------------------------------------------------------------------------------------------
# The verdicts on moto's server, the statuses added by `ReplicationRelay` as S3 User Guide, "Getting replication
# status information" describes them (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html).


def _replication_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("verify: replication")]


def _scratch_versions(s3, bucket: str) -> list[str]:
    listed = s3.list_object_versions(Bucket=bucket, Prefix="")
    return [v["Key"] for v in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]
            if SCRATCH_PREFIX in v["Key"]]


def test_a_failed_replication_fails_the_check_and_names_the_role(provisioned):
    """A source object's status FAILED ("missing replication role permissions, AWS KMS permissions, or bucket
    permissions"): the check fails at once, naming the role S3 assumes and the KMS grants; the object is deleted."""
    with provisioned.relay.answering("PENDING", "FAILED"):
        result = provisioned.verify("chat", *SKIP_LISTING)
    report = _report(result)
    assert result.returncode == 1 and report["overall_status"] == "failing"
    assert _status(report)["replication"] == "fail"
    detail = _detail(report, "replication")
    assert detail.startswith("FAILED after 0 s: S3 could not replicate to app-storage-prod-chat-replica (us-west-2)")
    assert "S3 cannot assume the replication role app-storage-prod-chat-replication" in detail
    assert "kms:Decrypt" in detail
    lines = _replication_lines(result.stderr)
    assert lines[1:-1] == ["verify: replication: PENDING after 0 s (bound 2 s)",
                           "verify: replication: FAILED after 0 s (bound 2 s)"]
    assert lines[-1].startswith("verify: replication fail (") and not any(" pass" in line for line in lines)
    assert provisioned.s3.list_objects_v2(Bucket="app-storage-prod-chat").get("Contents", []) == []


def test_an_object_still_pending_at_the_bound_fails_within_it(provisioned):
    """A temporary failure keeps the object PENDING: past REPLICATION_TIMEOUT the check fails and says so."""
    started = time.monotonic()
    with provisioned.relay.answering("PENDING"):
        result = provisioned.verify("chat", *SKIP_LISTING, "--replication-timeout", "0.3")
    assert time.monotonic() - started < 30
    report = _report(result)
    assert _status(report)["replication"] == "fail" and result.returncode == 1
    detail = _detail(report, "replication")
    assert detail.startswith("still PENDING after REPLICATION_TIMEOUT=0.3 s: not replicated to "
                             "app-storage-prod-chat-replica (us-west-2)"), detail
    assert "cannot assume the replication role app-storage-prod-chat-replication" in detail
    assert not any(" pass" in line for line in _replication_lines(result.stderr))


def test_moto_itself_sets_no_status_so_no_rule_covers_the_object(provisioned):
    """moto's own answer (no `x-amz-replication-status`) is what S3 answers for an object no rule covers."""
    with provisioned.relay.answering():
        report = _report(provisioned.verify("chat", *SKIP_LISTING))
    assert _status(report)["replication"] == "fail"
    assert _detail(report, "replication").startswith("no replication status: no replication rule covers the object")


def test_an_app_that_does_not_replicate_skips_the_check(provisioned):
    replication = provisioned.outputs["chat"]["replication"]
    provisioned.outputs["chat"]["replication"] = None
    heads = sum(provisioned.relay.heads.values())
    try:
        result = provisioned.verify("chat", *SKIP_LISTING)
    finally:
        provisioned.outputs["chat"]["replication"] = replication
    report = _report(result)
    assert result.returncode == 0 and _status(report)["replication"] == "not applicable"
    assert "does not replicate" in _detail(report, "replication")
    assert sum(provisioned.relay.heads.values()) == heads, "no scratch object is written for it"


def test_with_admin_credentials_the_replica_is_deleted_too(provisioned):
    """ADMIN=1: every version of the scratch object goes, here and in the replica bucket (copied there by the relay,
    as S3 replicates it); without admin credentials the detail says the replica expires with the lifecycle."""
    bucket, replica = "app-storage-prod-chat", "app-storage-prod-chat-replica"
    provisioned.s3.create_bucket(Bucket=replica)
    admin = {**os.environ, **provisioned.admin, "AWS_DEFAULT_REGION": REGION}
    try:
        with provisioned.relay.answering("PENDING", "COMPLETED", replica=(provisioned.s3, replica)):
            report = _report(provisioned.verify("chat", *SKIP_LISTING, "--admin", "--stack", "prod", environ=admin))
        replicas_left = _scratch_versions(provisioned.s3, replica)
        copied = list(provisioned.relay.copied)
    finally:
        for key in _scratch_versions(provisioned.s3, replica):
            provisioned.s3.delete_object(Bucket=replica, Key=key)
        provisioned.s3.delete_bucket(Bucket=replica)
    assert _status(report)["replication"] == "pass"
    assert _detail(report, "replication").endswith("the scratch object and its replica deleted, every version (admin)")
    assert len(copied) == 1 and copied[0].startswith(f"{replica}/uploads/{SCRATCH_PREFIX}")
    assert replicas_left == [] and _scratch_versions(provisioned.s3, bucket) == []
    without_admin = _report(provisioned.verify("chat", *SKIP_LISTING))
    assert _detail(without_admin, "replication").endswith("a delete marker, which S3 replicates; the noncurrent "
                                                          "versions on both sides expire with the buckets' lifecycle")
