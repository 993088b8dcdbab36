"""Contract: the dev stack's identity policies, applied exactly as declared, on a real S3/IAM server.

moto's server stands in for MinIO: the buckets and users are created as the dev stack declares them,
each user gets the policy document from the stack's own `IamPolicy` inputs, and then IAM enforcement is
switched on. Each app's key must work in its own areas and be refused everywhere else.
moto ignores the `s3:prefix` condition that narrows listing to the areas, so that part of the document is
checked in tests/unit/test_app_identity.py, not here.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.contract.moto_server import MotoServer

MINIO_USER = "minio:index/iamUser:IamUser"
MINIO_POLICY = "minio:index/iamPolicy:IamPolicy"
MINIO_ATTACHMENT = "minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment"
MINIO_BUCKET = "minio:index/s3Bucket:S3Bucket"


def declared(plan) -> dict:
    """Per app: its bucket, user and policy document, straight from the recorded inputs."""
    policies = {r.inputs["name"]: json.loads(r.inputs["policy"]) for r in plan.of_type(MINIO_POLICY)}
    attachments = {r.inputs["userName"]: r.inputs["policyName"] for r in plan.of_type(MINIO_ATTACHMENT)}
    apps = {}
    for bucket in plan.of_type(MINIO_BUCKET):
        app = bucket.name.removesuffix("-storage-bucket")
        [user] = [u.inputs["name"] for u in plan.of_type(MINIO_USER) if u.name == f"{app}-identity-user"]
        apps[app] = {"bucket": bucket.inputs["bucket"], "user": user, "policy": policies[attachments[user]],
                     "prefixes": plan.outputs[app]["connection"]["area_prefixes"]}
    return apps


@pytest.fixture(scope="module")
def server(dev_plan):
    apps = declared(dev_plan)
    with MotoServer() as moto:
        keys = {app: moto.create_app(spec["bucket"], spec["user"], spec["policy"]) for app, spec in apps.items()}
        moto.enforce_iam()
        yield moto, apps, keys


def app_client(server, app):
    moto, _, keys = server
    return moto.client("s3", *keys[app])


def refused(call, *args, **kwargs) -> bool:
    try:
        call(*args, **kwargs)
    except ClientError as error:
        return error.response["Error"]["Code"] in ("AccessDenied", "403")
    return False


@pytest.mark.parametrize("app", ["eventhorizon", "vista", "chat"])
def test_app_key_puts_gets_lists_and_deletes_in_each_of_its_areas(server, app):
    _, apps, _ = server
    s3, bucket = app_client(server, app), apps[app]["bucket"]
    for area, prefix in apps[app]["prefixes"].items():
        key = f"{prefix}contract/{area}.txt"
        s3.put_object(Bucket=bucket, Key=key, Body=f"{app} {area}".encode())
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == f"{app} {area}".encode()
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
        assert key in [item["Key"] for item in listed.get("Contents", [])]
        s3.delete_object(Bucket=bucket, Key=key)
        assert key not in [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


@pytest.mark.parametrize("app, other", [("chat", "eventhorizon"), ("eventhorizon", "vista"), ("vista", "chat")])
def test_app_key_is_refused_in_another_apps_bucket(server, app, other):
    _, apps, _ = server
    s3 = app_client(server, app)
    theirs = apps[other]["bucket"]
    their_prefix = next(iter(apps[other]["prefixes"].values()))
    assert refused(s3.put_object, Bucket=theirs, Key=f"{their_prefix}intruder.txt", Body=b"x")
    assert refused(s3.get_object, Bucket=theirs, Key=f"{their_prefix}anything.txt")
    assert refused(s3.list_objects_v2, Bucket=theirs)
    assert refused(s3.delete_object, Bucket=theirs, Key=f"{their_prefix}anything.txt")


@pytest.mark.parametrize("app", ["eventhorizon", "vista", "chat"])
def test_app_key_is_refused_outside_its_prefixes_in_its_own_bucket(server, app):
    _, apps, _ = server
    s3, bucket = app_client(server, app), apps[app]["bucket"]
    assert refused(s3.put_object, Bucket=bucket, Key="outside-every-area/x.txt", Body=b"x")
    assert refused(s3.get_object, Bucket=bucket, Key="outside-every-area/x.txt")
    assert refused(s3.delete_object, Bucket=bucket, Key="outside-every-area/x.txt")


def test_app_key_cannot_administer_the_server(server):
    s3 = app_client(server, "chat")
    assert refused(s3.create_bucket, Bucket="chat-made-this")
    _, apps, _ = server
    assert refused(s3.delete_bucket, Bucket=apps["chat"]["bucket"])
