"""`make adopt`'s judgement, from S3's answers as they come (cli/adopt.py `assess` is pure): what moto cannot
hand back, and the comparisons that decide whether a rule or statement survives."""

from __future__ import annotations

from cli import adopt
from tests.helpers import settings_for

SETTINGS = settings_for({"aws:region": "us-east-1", "app-storage:apps": {"chat": {
    "bucketName": "chat-system", "adopt": True, "areas": {"uploads": {"access": "private"}}}}})
[CHAT] = SETTINGS.apps
DECLARED = adopt.Declared(
    policy={"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": ["arn:aws:s3:::chat-system", "arn:aws:s3:::chat-system/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]},
    lifecycle=[{"id": "abort-incomplete-multipart-uploads", "status": "Enabled", "filter": {"prefix": ""},
                "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}},
               {"id": "expire-noncurrent-versions", "status": "Enabled", "filter": {"prefix": ""},
                "noncurrentVersionExpiration": {"noncurrentDays": 90},
                "expiration": {"expiredObjectDeleteMarker": True}}],
    cors=None, replicates=False, encryption=None, versioning=True, tags={})


def findings(**live) -> dict[str, adopt.Finding]:
    return {f.setting: f for f in adopt.assess(adopt.LiveBucket(acl={"Owner": {"ID": "me"}, "Grants": []}, **live),
                                               DECLARED, SETTINGS, CHAT)}


def test_requester_pays_fails_the_apps_requests():
    """S3 User Guide, "Using Requester Pays buckets": requests that do not include x-amz-request-payer are refused
    with 403 once the bucket is Requester Pays (moto 5.2.5 does not keep the setting: judged here from S3's answer,
    GetBucketRequestPayment `Payer`)."""
    assert findings(payer="Requester")["requester pays"].status == "fails"
    assert findings(payer="BucketOwner")["requester pays"].status == "ok"


def test_a_tls_deny_of_its_own_is_the_same_protection_and_lists_compare_as_sets():
    own = {"Sid": "AllowSSLRequestsOnly", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*",
           "Resource": ["arn:aws:s3:::chat-system/*", "arn:aws:s3:::chat-system"],
           "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    assert findings(policy={"Statement": [own]})["bucket policy"].status == "ok"
    reordered = {**DECLARED.policy["Statement"][0], "Sid": "Other",  # type: ignore[index]
                 "Resource": ["arn:aws:s3:::chat-system/*", "arn:aws:s3:::chat-system"]}
    assert adopt.canonical(reordered) == adopt.canonical(DECLARED.policy["Statement"][0])  # type: ignore[index]


def test_housekeeping_rules_are_the_stacks_own_and_other_rules_are_lost():
    abort = {"ID": "abort", "Status": "Enabled", "Filter": {"Prefix": ""},
             "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}
    noncurrent = {"ID": "old-versions", "Status": "Enabled", "Filter": {},
                  "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}
    tagged = {"ID": "tagged", "Status": "Enabled", "Filter": {"Tag": {"Key": "tmp", "Value": "1"}},
              "Expiration": {"Days": 1}}
    found = adopt.assess(adopt.LiveBucket(lifecycle=[abort, noncurrent, tagged]), DECLARED, SETTINGS, CHAT)
    lifecycle = [(f.now, f.status) for f in found if f.setting == "lifecycle"]
    assert lifecycle == [("rule abort", "ok"), ("rule old-versions", "ok"), ("rule tagged", "lost")]
    [tagged_finding] = [f for f in found if f.now == "rule tagged"]
    assert tagged_finding.fix.startswith("The config cannot declare it")  # a tag filter has no config


def test_objects_under_the_aws_managed_key_stay_readable():
    """AWS KMS Developer Guide, "AWS managed keys": their key policy lets any principal of the account use the key
    through the service that created it, so the new identity reads aws/s3 objects through S3."""
    live = {"object_keys": {"arn:aws:kms:us-east-1:123456789012:key/managed": 2}, "sampled": 2,
            "key_managers": {"arn:aws:kms:us-east-1:123456789012:key/managed": "AWS"}}
    assert "object encryption" not in findings(**live)
    live["key_managers"] = {}
    assert findings(**live)["object encryption"].status == "lost"
