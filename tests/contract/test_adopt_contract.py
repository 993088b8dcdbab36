"""`make adopt` against hand-made buckets on moto's server: each state a first `pulumi up` would lose or fail on is
named and exits 1, a plain bucket exits 0, and with what must stay kept in config the same bucket exits 0.

What moto cannot show is said where it matters:
- moto 5.2.5 stores no RequestPayment configuration (GetBucketRequestPayment answers without a Payer): requester
  pays is judged from S3's answer shape in tests/unit/test_adopt.py instead;
- MinIO's shape (backend minio) is read through the S3 API, so the settings only MinIO's admin API carries (the
  bucket quota) are reported `skipped` with the command that shows them; MinIO's own answers to the AWS-only
  settings (NotImplemented) are not reproduced by moto, and those settings are not asked on minio at all.
"""

from __future__ import annotations

import json
import os

import pytest
import yaml

from cli import adopt
from tests.contract.moto_server import REGION, MotoServer
from tests.helpers import run_cli

OTHER_ACCOUNT = "arn:aws:iam::111122223333:root"
ADMIN = {"AWS_ACCESS_KEY_ID": "admin-testing", "AWS_SECRET_ACCESS_KEY": "admin-secret-never-printed"}
PARTNER = {"Sid": "PartnerRead", "Effect": "Allow", "Principal": {"AWS": OTHER_ACCOUNT}, "Action": "s3:GetObject"}


def _policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture(scope="module")
def server():
    with MotoServer() as started:
        yield started


def stack_file(tmp_path, bucket: str, app: dict | None = None, stack: dict | None = None, backend: str = "aws"):
    config: dict = {"aws:region": REGION} if backend == "aws" else {
        "app-storage:backend": "minio", "minio:minioServer": "127.0.0.1:9", "app-storage:forceDestroy": False}
    config.update(stack or {})
    config["app-storage:apps"] = {"chat": {"dialect": "django", "bucketName": bucket, "adopt": True,
                                           "areas": {"uploads": {"access": "private"}}, **(app or {})}}
    path = tmp_path / f"Pulumi.{bucket}.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def preflight(server, path, stack: str = "adopt") -> adopt.AdoptReport:
    return adopt.preflight(stack, "chat", stack_file=path, client_factory=lambda _settings: server.client("s3"),
                           kms_factory=lambda _settings: server.client("kms"))


def statuses(report: adopt.AdoptReport) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in report.findings:
        found.setdefault(finding.setting, set()).add(finding.status)
    return found


def hazards(report: adopt.AdoptReport) -> set[tuple[str, str]]:
    return {(f.setting, f.status) for f in report.hazards}


def test_a_plain_bucket_adopts_with_nothing_lost(server, tmp_path):
    server.client("s3").create_bucket(Bucket="plain-bucket")
    server.client("s3").put_object(Bucket="plain-bucket", Key="uploads/a.txt", Body=b"hello")
    report = preflight(server, stack_file(tmp_path, "plain-bucket"))
    assert not report.hazards, report.findings
    [objects] = [f for f in report.findings if f.setting == "objects"]
    assert objects.now == "1 objects, 5 bytes"


def test_through_the_command_with_the_sdks_endpoint_variable_exit_codes_and_no_secret(server, tmp_path):
    """AWS_ENDPOINT_URL (botocore's standard endpoint variable) points the admin client at the server."""
    s3 = server.client("s3")
    s3.create_bucket(Bucket="command-bucket")
    path = stack_file(tmp_path, "command-bucket")
    env = {**os.environ, **ADMIN, "AWS_ENDPOINT_URL": server.url}
    clean = run_cli("adopt", "--stack", "adopt", "--app", "chat", "--stack-file", str(path), env=env)
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.splitlines()[-1].startswith("0 hazards")
    s3.put_bucket_policy(Bucket="command-bucket", Policy=_policy(
        {**PARTNER, "Resource": "arn:aws:s3:::command-bucket/shared/*"}))
    lost = run_cli("adopt", "--stack", "adopt", "--app", "chat", "--stack-file", str(path), "--json", env=env)
    assert lost.returncode == 1
    report = json.loads(lost.stdout)
    assert report["hazards"] == 1 and report["findings"][0]["status"] == "lost"
    assert ADMIN["AWS_SECRET_ACCESS_KEY"] not in lost.stdout + lost.stderr + clean.stdout + clean.stderr
    unreachable = run_cli("adopt", "--stack", "adopt", "--app", "chat", "--stack-file", str(path),
                          env={**env, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert unreachable.returncode == 2 and unreachable.stderr.startswith("make adopt: ")
    assert "cannot be reached" in unreachable.stderr and "Traceback" not in unreachable.stderr


def test_the_preflight_only_reads(server, tmp_path):
    """Never a write to the bucket: every S3 and KMS operation the preflight sends is a Get, Head or List."""
    s3 = server.client("s3")
    s3.create_bucket(Bucket="read-only-bucket")
    s3.put_object(Bucket="read-only-bucket", Key="a", Body=b"x")
    sent: list[str] = []

    def recording(_settings):
        client = server.client("s3")
        client.meta.events.register("before-call", lambda model, **_: sent.append(model.name))
        return client
    adopt.preflight("adopt", "chat", stack_file=stack_file(tmp_path, "read-only-bucket"), client_factory=recording,
                    kms_factory=lambda _settings: server.client("kms"))
    assert sent and all(name.startswith(("Get", "Head", "List")) for name in sent), sent


def test_policy_statements_the_stack_drops_are_named_with_who_loses_access_and_can_be_kept(server, tmp_path):
    bucket = "policy-bucket"
    statement = {**PARTNER, "Resource": f"arn:aws:s3:::{bucket}/shared/*"}
    server.client("s3").create_bucket(Bucket=bucket)
    server.client("s3").put_bucket_policy(Bucket=bucket, Policy=_policy(statement))
    report = preflight(server, stack_file(tmp_path, bucket))
    [lost] = report.hazards
    assert (lost.setting, lost.status) == ("bucket policy", "lost")
    assert lost.consequence == f"{OTHER_ACCOUNT} loses s3:GetObject"
    assert lost.fix.startswith("Keep it: add to apps.chat.keep.policyStatements: ")
    kept = json.loads(lost.fix.split("keep.policyStatements: ", 1)[1])
    assert not preflight(server, stack_file(tmp_path, bucket, {"keep": {"policyStatements": [kept]}})).hazards


def test_lifecycle_rules_are_replaced_and_can_be_kept(server, tmp_path):
    bucket = "lifecycle-bucket"
    server.client("s3").create_bucket(Bucket=bucket)
    server.client("s3").put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "expire-tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 7}},
        {"ID": "abort-uploads", "Status": "Enabled", "Filter": {"Prefix": ""},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3}}]})
    report = preflight(server, stack_file(tmp_path, bucket))
    [lost] = report.hazards  # the abort rule is the stack's own housekeeping
    assert lost.setting == "lifecycle" and lost.now == "rule expire-tmp"
    kept = json.loads(lost.fix.split("keep.lifecycle: ", 1)[1])
    assert kept == {"id": "expire-tmp", "prefix": "tmp/", "expireDays": 7}
    assert not preflight(server, stack_file(tmp_path, bucket, {"keep": {"lifecycle": [kept]}})).hazards


def test_cors_rules_the_stack_replaces_are_named_and_can_be_kept(server, tmp_path):
    bucket = "cors-bucket"
    server.client("s3").create_bucket(Bucket=bucket)
    server.client("s3").put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["https://old.example.com"], "AllowedMethods": ["GET"], "AllowedHeaders": ["*"],
         "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]})
    ours = {"origins": ["https://chat.example.com"], "methods": ["GET", "PUT"]}
    report = preflight(server, stack_file(tmp_path, bucket, {"cors": [ours]}))
    [lost] = report.hazards
    assert (lost.setting, lost.status) == ("CORS", "lost")
    kept = json.loads(lost.fix.split("apps.chat.cors: ", 1)[1])
    assert not preflight(server, stack_file(tmp_path, bucket, {"cors": [ours, kept]})).hazards


def test_a_replication_configuration_the_stack_replaces_is_named(server, tmp_path):
    bucket = "replicated-bucket"
    s3 = server.client("s3")
    for name in (bucket, "partner-copy"):
        s3.create_bucket(Bucket=name)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration={
        "Role": "arn:aws:iam::123456789012:role/replication", "Rules": [
            {"ID": "to-partner", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": ""},
             "DeleteMarkerReplication": {"Status": "Disabled"},
             "Destination": {"Bucket": "arn:aws:s3:::partner-copy"}}]})
    replicating = {"app-storage:replication": {"region": "us-west-2"}}
    report = preflight(server, stack_file(tmp_path, bucket, stack=replicating))
    assert hazards(report) == {("replication", "lost")}
    assert "arn:aws:s3:::partner-copy receive no more copies" in report.hazards[0].consequence
    assert not preflight(server, stack_file(tmp_path, bucket)).hazards  # a stack without replication leaves it


def test_acl_grants_to_others_make_the_ownership_change_fail(server, tmp_path):
    bucket = "acl-bucket"
    s3 = server.client("s3")
    s3.create_bucket(Bucket=bucket)
    owner = s3.get_bucket_acl(Bucket=bucket)["Owner"]
    s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": owner, "Grants": [
        {"Grantee": {"Type": "CanonicalUser", "ID": owner["ID"]}, "Permission": "FULL_CONTROL"},
        {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
         "Permission": "READ"}]})
    report = preflight(server, stack_file(tmp_path, bucket))
    [failing] = report.hazards
    assert failing.setting == "ACL and ownership" and failing.status == "fails"
    assert "InvalidBucketAclWithObjectOwnership" in failing.consequence and "public reads" in failing.consequence


def test_a_public_policy_stops_serving(server, tmp_path):
    bucket = "public-bucket"
    s3 = server.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy({
        "Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/site/*"}))
    report = preflight(server, stack_file(tmp_path, bucket))
    [lost] = report.hazards
    assert lost.setting == "bucket policy" and "public URLs" in lost.consequence
    assert statuses(report)["block public access"] == {"note"}


def test_website_hosting_stops_answering(server, tmp_path):
    bucket = "website-bucket"
    server.client("s3").create_bucket(Bucket=bucket)
    server.client("s3").put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}})
    assert hazards(preflight(server, stack_file(tmp_path, bucket))) == {("website hosting", "fails")}


def test_object_lock_default_retention_holds_back_the_stacks_expiry(server, tmp_path):
    bucket = "locked-bucket"
    s3 = server.client("s3")
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    assert statuses(preflight(server, stack_file(tmp_path, bucket)))["object lock"] == {"note"}  # no retention
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}}})
    report = preflight(server, stack_file(tmp_path, bucket))
    assert hazards(report) == {("object lock", "fails")}
    assert report.hazards[0].now == "on, default retention GOVERNANCE 30 days"


def test_objects_under_another_key_are_named_and_the_key_can_be_kept(server, tmp_path):
    bucket = "kms-bucket"
    s3, kms = server.client("s3"), server.client("kms")
    key_arn = kms.create_key(Description="the bucket's old key")["KeyMetadata"]["Arn"]
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}}]})
    for index in range(3):
        s3.put_object(Bucket=bucket, Key=f"uploads/{index}", Body=b"x", ServerSideEncryption="aws:kms",
                      SSEKMSKeyId=key_arn)
    report = preflight(server, stack_file(tmp_path, bucket))
    assert hazards(report) == {("default encryption", "lost")}
    assert key_arn in report.hazards[0].now and "keep.kmsKeyArns" in report.hazards[0].fix
    other = kms.create_key()["KeyMetadata"]["Arn"]
    s3.put_object(Bucket=bucket, Key="uploads/other", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=other)
    report = preflight(server, stack_file(tmp_path, bucket, {"keep": {"kmsKeyArns": [key_arn]}}))
    [lost] = report.hazards
    assert lost.setting == "object encryption" and lost.now == f"1 of 4 sampled objects under {other}"
    kept = preflight(server, stack_file(tmp_path, bucket, {"keep": {"kmsKeyArns": [key_arn, other]}}))
    assert not kept.hazards


def test_tags_the_stack_replaces_are_named_and_kept_through_the_stack_tags(server, tmp_path):
    bucket = "tagged-bucket"
    server.client("s3").create_bucket(Bucket=bucket)
    server.client("s3").put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "chat"}]})
    assert hazards(preflight(server, stack_file(tmp_path, bucket))) == {("tags", "lost")}
    kept = preflight(server, stack_file(tmp_path, bucket, stack={"app-storage:tags": {"team": "chat"}}))
    assert not kept.hazards


def test_versioning_state_is_reported_and_never_a_hazard(server, tmp_path):
    bucket = "suspended-bucket"
    s3 = server.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    report = preflight(server, stack_file(tmp_path, bucket))
    [versioning] = [f for f in report.findings if f.setting == "versioning"]
    assert (versioning.now, versioning.stack, versioning.status) == ("Suspended", "Enabled", "ok")
    off = preflight(server, stack_file(tmp_path, bucket, stack={"app-storage:versioning": False}))
    [versioning] = [f for f in off.findings if f.setting == "versioning"]
    assert versioning.status == "note" and "never turns versioning off" in versioning.consequence
    assert not off.hazards


def test_a_missing_bucket_and_one_in_another_region_fail_the_import(server, tmp_path):
    assert hazards(preflight(server, stack_file(tmp_path, "no-such-bucket"))) == {("bucket", "fails")}
    server.client("s3").create_bucket(Bucket="irish-bucket",
                                      CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    report = preflight(server, stack_file(tmp_path, "irish-bucket"))
    assert ("region", "fails") in hazards(report)
    assert "aws:region is eu-west-1" in next(f.fix for f in report.hazards if f.setting == "region")


def test_an_app_that_does_not_adopt_is_bad_input(server, tmp_path):
    path = stack_file(tmp_path, "plain-bucket", {"adopt": False})
    with pytest.raises(adopt.AdoptError, match="does not adopt a bucket"):
        preflight(server, path)


# --- MinIO's shape ---------------------------------------------------------------------------------------------


def test_on_minio_the_admin_comes_from_minio_user_and_an_anonymous_policy_that_stays_is_named(server, tmp_path):
    """MinIO's stack declares a bucket policy only for public areas: an anonymous statement the bucket has stays
    open. The admin is MINIO_USER/MINIO_PASSWORD; AWS_ENDPOINT_URL_S3 points the preflight at the server."""
    bucket = "minio-bucket"
    s3 = server.client("s3")
    s3.create_bucket(Bucket=bucket)
    path = stack_file(tmp_path, bucket, backend="minio", app={"alerts": {"storageBytes": 5_000_000_000}})
    env = {**os.environ, "MINIO_USER": "minio-admin", "MINIO_PASSWORD": "minio-secret-never-printed",
           "AWS_ENDPOINT_URL_S3": server.url}
    clean = run_cli("adopt", "--stack", "adopt", "--app", "chat", "--stack-file", str(path), "--json", env=env)
    assert clean.returncode == 0, clean.stderr
    found = {f["setting"]: f for f in json.loads(clean.stdout)["findings"]}
    assert found["quota"]["status"] == "skipped" and "mc quota info" in found["quota"]["now"]
    assert found["website hosting"]["status"] == "not applicable"
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy({
        "Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": ["s3:GetObject"],
        "Resource": [f"arn:aws:s3:::{bucket}/*"]}))
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "expire-tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 7}}]})
    lost = run_cli("adopt", "--stack", "adopt", "--app", "chat", "--stack-file", str(path), env=env)
    assert lost.returncode == 1
    assert "minio-secret-never-printed" not in lost.stdout + lost.stderr
    assert any(line.split()[:3] == ["exposed", "bucket", "policy:"] and "anonymous access stays open" in line
               for line in lost.stdout.splitlines()), lost.stdout
    kept = stack_file(tmp_path, bucket, backend="minio", app={
        "keep": {"lifecycle": [{"id": "expire-tmp", "prefix": "tmp/", "expireDays": 7}]},
        "areas": {"uploads": {"access": "private"}}})
    report = adopt.preflight("adopt", "chat", stack_file=kept, client_factory=lambda _s: server.client("s3"))
    assert hazards(report) == {("bucket policy", "exposed")}  # the kept rule matches MinIO's ILM declaration
    missing = run_cli("adopt", "--stack", "adopt", "--app", "chat", "--stack-file", str(path),
                      env={k: v for k, v in env.items() if k != "MINIO_PASSWORD"})
    assert missing.returncode == 2 and "MINIO_USER and MINIO_PASSWORD" in missing.stderr


def test_a_client_that_cannot_be_set_up_is_one_line_exit_2_and_credentials_in_the_url_are_not_shown(tmp_path):
    """A profile that does not exist (botocore's ProfileNotFound) and an endpoint URL botocore refuses are bad input:
    one line, exit 2, no traceback; an endpoint with credentials in it is shown by scheme, host and port only."""
    path = stack_file(tmp_path, "any-bucket")
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    cases = [{"AWS_PROFILE": "no-such-profile-here"}, {**ADMIN, "AWS_ENDPOINT_URL_S3": "not a url"},
             {**ADMIN, "AWS_ENDPOINT_URL_S3": "http://user:hunter2@127.0.0.1:9"},
             {**ADMIN, "AWS_ENDPOINT_URL_S3": "http://user:hunter2@bad host:9"},  # botocore quotes it refusing
             {**ADMIN, "AWS_ENDPOINT_URL_S3": "http://user:hunter2@127.0.0.1:99999"}]
    for extra in cases:
        result = run_cli("adopt", "--stack", "adopt", "--app", "chat", "--stack-file", str(path),
                         env={**base, **extra})
        assert result.returncode == 2 and "Traceback" not in result.stderr, (extra, result.stderr)
        assert result.stderr.startswith("make adopt: ") and len(result.stderr.strip().splitlines()) == 1
        assert "hunter2" not in result.stdout + result.stderr
