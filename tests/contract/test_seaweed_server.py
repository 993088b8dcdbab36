"""Contract: SeaweedServer starts a SeaweedFS whose identities hold nothing but their IAM policy documents, and
SeaweedFS enforces those documents - the `s3:prefix` condition on listing included, which moto ignores - as well
as a bucket policy for anonymous requests, next to presigned ones."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from tests.contract.seaweed_server import SeaweedServer, requires_weed

pytestmark = requires_weed

BUCKET = "app-bucket"
OTHER_BUCKET = "other-bucket"
APP = {"name": "app", "access_key": "app-access-key", "secret_key": "app-secret-key", "policy_names": ["app-access"]}
APP_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "ListAreaPrefixes", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [f"arn:aws:s3:::{BUCKET}"],
     "Condition": {"StringLike": {"s3:prefix": ["uploads/*"]}}},
    {"Sid": "LocateBucket", "Effect": "Allow", "Action": ["s3:GetBucketLocation"],
     "Resource": [f"arn:aws:s3:::{BUCKET}"]},
    {"Sid": "ReadWriteAreaObjects", "Effect": "Allow",
     "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
     "Resource": [f"arn:aws:s3:::{BUCKET}/uploads/*"]},
]}
PUBLIC_READ = {"Version": "2012-10-17", "Statement": [
    {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"],
     "Resource": [f"arn:aws:s3:::{BUCKET}/public/*"]},
]}


@pytest.fixture(scope="module")
def server():
    with SeaweedServer([APP], {"app-access": APP_POLICY}) as seaweed:
        admin = seaweed.client()
        admin.create_bucket(Bucket=BUCKET)
        admin.create_bucket(Bucket=OTHER_BUCKET)
        yield seaweed


@pytest.fixture
def app(server):
    return server.client("s3", APP["access_key"], APP["secret_key"])


def error_code(call, *args, **kwargs) -> str | None:
    try:
        call(*args, **kwargs)
    except ClientError as error:
        return error.response["Error"]["Code"]
    return None


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_identity_puts_gets_lists_and_deletes_under_its_prefix(app):
    app.put_object(Bucket=BUCKET, Key="uploads/a.txt", Body=b"a")
    assert app.get_object(Bucket=BUCKET, Key="uploads/a.txt")["Body"].read() == b"a"
    listed = app.list_objects_v2(Bucket=BUCKET, Prefix="uploads/")
    assert "uploads/a.txt" in [item["Key"] for item in listed.get("Contents", [])]
    app.delete_object(Bucket=BUCKET, Key="uploads/a.txt")
    listed = app.list_objects_v2(Bucket=BUCKET, Prefix="uploads/")
    assert "uploads/a.txt" not in [item["Key"] for item in listed.get("Contents", [])]


def test_identity_locates_its_bucket(app):
    assert app.get_bucket_location(Bucket=BUCKET)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_prefix_condition_refuses_listing_elsewhere(app):
    assert error_code(app.list_objects_v2, Bucket=BUCKET, Prefix="elsewhere/") == "AccessDenied"
    assert error_code(app.list_objects_v2, Bucket=BUCKET) == "AccessDenied"  # no prefix: the condition fails too


def test_identity_cannot_write_outside_its_prefix(app):
    assert error_code(app.put_object, Bucket=BUCKET, Key="elsewhere/x", Body=b"x") == "AccessDenied"


def test_identity_cannot_list_another_bucket(app):
    assert error_code(app.list_objects_v2, Bucket=OTHER_BUCKET) == "AccessDenied"
    assert error_code(app.list_objects_v2, Bucket=OTHER_BUCKET, Prefix="uploads/") == "AccessDenied"


def test_bucket_policy_opens_public_prefix_to_anonymous_reads_only(server, app):
    admin = server.client()
    admin.put_object(Bucket=BUCKET, Key="public/x", Body=b"public")
    app.put_object(Bucket=BUCKET, Key="uploads/y", Body=b"private")
    assert http_status(f"{server.url}/{BUCKET}/public/x") == 403  # nothing is public before the bucket policy
    admin.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC_READ))
    try:
        assert http_status(f"{server.url}/{BUCKET}/public/x") == 200
        assert http_status(f"{server.url}/{BUCKET}/uploads/y") == 403
        presigned = app.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "uploads/y"},
                                               ExpiresIn=300)
        assert http_status(presigned) == 200
        unsigned = server.client(signed=False)
        assert unsigned.get_object(Bucket=BUCKET, Key="public/x")["Body"].read() == b"public"
    finally:
        admin.delete_bucket_policy(Bucket=BUCKET)


def test_a_document_seaweedfs_cannot_compile_fails_the_start():
    """SeaweedFS itself would start without it and refuse its identity everything."""
    stale = {**APP_POLICY, "Version": "2008-10-17"}
    with pytest.raises(ValueError, match="unsupported policy version: 2008-10-17"):
        with SeaweedServer([APP], {"app-access": stale}):
            pass
