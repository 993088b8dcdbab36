"""`make verify` against apps provisioned on moto's server from the prod stack's own plan (public areas served
straight from S3, as with `publicWithoutCdn`, so anonymous reads reach the server).

What moto cannot model is left out of the setup and said here:
- moto applies a bucket policy's Deny without its condition, so the TLS-only statement (Deny unless
  aws:SecureTransport) would refuse every anonymous request over plain HTTP: it is not installed;
- moto ignores the `s3:prefix` condition of the identity's ListBucket grant, so `listing-limited-to-areas` is
  skipped (SKIP=, reported as skipped) where the app is healthy, and shown failing where it is not;
- moto answers unsigned and presigned requests with 500 while it enforces IAM: `UnsignedRelay` lets those
  through with IAM relaxed for that one request (every answer is still moto's).
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import pytest

from components import dialects
from tests.contract.moto_server import REGION, MotoServer, UnsignedRelay
from tests.helpers import run_cli

SKIP_LISTING = ("--skip", "listing-limited-to-areas")


def _inputs(plan, name: str) -> dict:
    return next(r.inputs for r in plan.resources if r.name == name)


def _statements(document: str, without: str = "") -> list[dict]:
    return [s for s in json.loads(document)["Statement"] if s.get("Sid") != without]


class Provisioned:
    """The apps of a plan, created on moto as the stack declares them, and their outputs and `.env` files."""

    def __init__(self, server: MotoServer, relay: UnsignedRelay, plan, tmp: Path):
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
                       "--json", *extra, env=environ)


@pytest.fixture(scope="module")
def provisioned(shown_plans, tmp_path_factory):
    with MotoServer(env={"MOTO_DISABLE_GLOBAL_CORS": "true"}) as server, UnsignedRelay(server) as relay:
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


def test_a_healthy_app_passes_every_check(provisioned):
    result = provisioned.verify("eventhorizon", *SKIP_LISTING)
    report = _report(result)
    assert result.returncode == 0, json.dumps(report["checks"], indent=1)
    statuses = _status(report)
    assert statuses == {
        "credentials": "pass", "bucket": "pass",
        "area media: put, head, get, delete": "pass", "area static: put, head, get, delete": "pass",
        "area private: put, head, get, delete": "pass",
        "listing-limited-to-areas": "skip", "write-outside-areas-refused": "pass", "other-bucket-refused": "pass",
        "presigned-get": "pass", "unsigned-get-refused": "pass", "public-read media": "pass",
        "public-read static": "pass", "cors-allowed-origin": "pass", "cors-other-origin-refused": "pass"}
    assert report["overall_status"] == "degraded"  # one check skipped on request
    assert all(isinstance(check["milliseconds"], int) and check["detail"] for check in report["checks"])
    secret = provisioned.outputs["eventhorizon_secret_access_key"]
    assert secret not in result.stdout + result.stderr
    assert "verify: presigned-get pass" in result.stderr  # a progress line per check
    leftovers = provisioned.s3.list_objects_v2(Bucket="app-storage-prod-eventhorizon").get("Contents", [])
    assert leftovers == [], "every scratch object is deleted"


def test_the_table_lists_every_check(provisioned):
    result = run_cli("verify", "--env", str(provisioned.env("chat")), "--from", str(provisioned.outputs_file()),
                     *SKIP_LISTING)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("degraded: app chat, bucket app-storage-prod-chat")
    assert any(line.startswith("area uploads: put, head, get, delete  pass") for line in lines)
    assert any(line.startswith("public-read ") and " skip " in line for line in lines)


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
