"""`make verify`'s pure parts: reading a `.env` back in any dialect, the health report's status, and the
`replication` check's verdicts against a stubbed S3."""

from __future__ import annotations

import json

import pytest
from botocore.stub import ANY, Stubber

from cli.verify import SCRATCH_PREFIX, Check, HealthReport, Target, Verifier, VerifyError, read_target
from components import dialects
from tests.helpers import CONNECTION_SHAPES

READ_BACK = ("bucket", "access_key_id", "secret_access_key", "region", "endpoint", "backend")


@pytest.mark.parametrize("dialect", sorted(dialects.DIALECTS))
@pytest.mark.parametrize("shape", sorted(CONNECTION_SHAPES))
def test_each_dialect_reads_back_the_connection_it_wrote(connection_shapes, dialect, shape):
    connection = connection_shapes[shape]
    values = dialects.render_env(dialect, connection)
    assert dialects.detect_dialect(values) == dialect
    read = dialects.read_env(dialect, values)
    for key in READ_BACK:
        if key == "region" and dialect == "object-storage" and not values.get("OBJECT_STORAGE_REGION"):
            continue
        assert read.get(key) == connection.get(key), key
    if connection.get("endpoint"):
        assert read["path_style"] == connection["path_style"] and read["use_tls"] == connection["use_tls"]
    if dialect == "django":
        assert read["area_prefixes"] == connection["area_prefixes"]


def test_a_mixed_or_foreign_env_names_no_dialect():
    with pytest.raises(dialects.DialectError, match="name its dialect"):
        dialects.detect_dialect({"S3_BUCKET": "a", "AWS_S3_BUCKET": "a"})
    with pytest.raises(dialects.DialectError, match="no bucket variable"):
        dialects.detect_dialect({"DATABASE_URL": "x"})


def test_an_env_without_areas_needs_the_stack_outputs(connection_shapes, tmp_path):
    env_file = tmp_path / "app.env"
    env_file.write_text("".join(f"{k}='{v}'\n" for k, v in dialects.render_env(
        "s3", connection_shapes["minio"]).items()))
    with pytest.raises(VerifyError, match="STACK=<stack>, or FROM="):
        read_target(env_file, None, None, None, None)


@pytest.mark.parametrize("statuses, overall", [(["pass", "not applicable"], "healthy"),
                                               (["pass", "skipped"], "degraded"), (["skipped", "fail"], "failing")])
def test_the_overall_status(statuses, overall):
    report = HealthReport("a", "b", "e", [Check(f"c{i}", status) for i, status in enumerate(statuses)])
    assert report.overall_status == overall and report.as_dict()["overall_status"] == overall


def test_areas_split_into_public_and_private():
    target = Target({"bucket": "b", "area_prefixes": {"media": "media/", "files": "files/"},
                     "public_areas": ["media"]})
    assert (target.public_areas, target.private_areas) == (["media"], ["files"])


# --- replication: the scratch object's replication status ----------------------------------------------------
# S3 User Guide, "Getting replication status information"
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-status.html): HeadObject of a source object
# answers `x-amz-replication-status` PENDING, then COMPLETED or FAILED, only where a replication rule covers the
# object; FAILED (missing replication role, KMS or bucket permissions) is final, and a temporary failure (the
# destination bucket or region unavailable) keeps the object PENDING. A replica answers REPLICA.
# moto 5.2.5 stores a bucket's replication configuration but never replicates nor sets the status, so these tests
# answer HeadObject with botocore's Stubber; tests/contract/test_verify_contract.py runs the check on moto's server.

REPLICATED = {"replica_bucket_name": "b-replica", "replica_region": "us-west-2", "role_name": "b-replication",
              "replication_time_control": False}


class FakeClock:
    """Time that passes only when the check sleeps: no test waits."""

    def __init__(self):
        self.now, self.sleeps = 0.0, []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _replicating(statuses: list[str | None], timeout: float = 10, poll: float = 2,
                 replication: dict | None = REPLICATED, sleep=None):
    """A verifier of bucket `b` whose client answers put, one HeadObject per status, and the delete."""
    target = Target({"bucket": "b", "region": "us-east-1", "access_key_id": "AKIDEXAMPLE",
                     "secret_access_key": "not-a-secret", "area_prefixes": {"media": "media/"}},
                    replication=replication)
    clock, lines = FakeClock(), []
    verifier = Verifier(target, lines.append, replication_timeout=timeout, replication_poll=poll,
                        sleep=sleep or clock.sleep, clock=lambda: clock.now)
    stubber = Stubber(verifier.client)
    key = {"Bucket": "b", "Key": ANY}
    if statuses:
        stubber.add_response("put_object", {"VersionId": "v1"}, {**key, "Body": ANY})
        for status in statuses:
            stubber.add_response("head_object", {"ReplicationStatus": status} if status else {}, key)
        stubber.add_response("delete_object", {"DeleteMarker": True}, key)
    return verifier, stubber, clock, lines


def _run_replication(verifier, stubber) -> Check:
    with stubber:
        verifier._replication()
    stubber.assert_no_pending_responses()
    assert verifier.scratch == [], "the scratch object is deleted"
    return verifier.checks[-1]


def _no_pass_but_the_verdict(lines: list[str], status: str) -> None:
    """Progress lines say `pass` only for a check that passed: here only the check's last line has a status."""
    assert lines[0] == "verify: replication …" and lines[-1].startswith(f"verify: replication {status} (")
    assert not any(" pass" in line for line in lines[:-1])


def test_replication_passes_once_the_status_reaches_completed():
    """PENDING, then COMPLETED (S3 User Guide, "Getting replication status information"): pass, with the
    replica named; polled at the injected interval, never waiting for real."""
    verifier, stubber, clock, lines = _replicating(["PENDING", "PENDING", "COMPLETED"])
    check = _run_replication(verifier, stubber)
    assert (check.name, check.status) == ("replication", "pass")
    assert check.detail.startswith("COMPLETED after 4 s: replicated to b-replica (us-west-2); the scratch object "
                                   "deleted: a delete marker, which S3 replicates"), check.detail
    assert clock.sleeps == [2, 2]
    assert lines[1:3] == ["verify: replication: PENDING after 0 s (bound 10 s)",
                          "verify: replication: COMPLETED after 4 s (bound 10 s)"]
    _no_pass_but_the_verdict(lines, "pass")


def test_a_failed_replication_fails_naming_the_role_and_the_kms_grants():
    """FAILED is final ("Objects transition to a FAILED state for issues such as missing replication role
    permissions, AWS KMS permissions, or bucket permissions": S3 User Guide, "Getting replication status
    information"): the check fails at once and names the likely causes."""
    verifier, stubber, clock, lines = _replicating(["PENDING", "FAILED"])
    check = _run_replication(verifier, stubber)
    assert check.status == "fail" and check.detail.startswith("FAILED after 2 s: S3 could not replicate to "
                                                              "b-replica (us-west-2)")
    assert "S3 cannot assume the replication role b-replication" in check.detail and "kms:Decrypt" in check.detail
    assert clock.sleeps == [2]
    _no_pass_but_the_verdict(lines, "fail")


def test_an_object_pending_past_the_bound_fails_without_waiting():
    """A temporary failure keeps the object PENDING (S3 User Guide, "Getting replication status information"):
    past the bound the check fails, naming the bound and the likely causes; the last wait is cut to the bound."""
    verifier, stubber, clock, lines = _replicating(["PENDING"] * 5, timeout=10, poll=3)
    check = _run_replication(verifier, stubber)
    assert clock.sleeps == [3, 3, 3, 1] and clock.now == 10
    assert check.status == "fail"
    assert check.detail.startswith("still PENDING after REPLICATION_TIMEOUT=10 s: not replicated to b-replica "
                                   "(us-west-2)"), check.detail
    assert "cannot assume the replication role b-replication" in check.detail and "KMS" in check.detail
    assert "without S3 RTC, S3 promises no replication time" in check.detail
    assert [line for line in lines if ": PENDING" in line] == ["verify: replication: PENDING after 0 s (bound 10 s)"]
    _no_pass_but_the_verdict(lines, "fail")


def test_a_pending_object_is_reported_every_minute():
    verifier, stubber, clock, lines = _replicating(["PENDING"] * 8 + ["COMPLETED"], timeout=900, poll=20)
    assert _run_replication(verifier, stubber).status == "pass"
    assert [line.split(": ", 1)[1] for line in lines[1:-1]] == [
        "replication: PENDING after 0 s (bound 900 s)", "replication: PENDING after 60 s (bound 900 s)",
        "replication: PENDING after 120 s (bound 900 s)", "replication: COMPLETED after 160 s (bound 900 s)"]


def test_an_object_without_a_replication_status_fails_at_once():
    """S3 answers the status only for an object eligible for replication (S3 User Guide, "Getting replication
    status information"): none means no rule covers it, and waiting would not change that."""
    verifier, stubber, clock, lines = _replicating([None])
    check = _run_replication(verifier, stubber)
    assert check.status == "fail" and clock.sleeps == []
    assert check.detail.startswith("no replication status: no replication rule covers the object")
    _no_pass_but_the_verdict(lines, "fail")


def test_a_replica_status_on_a_written_object_fails():
    verifier, stubber, _, lines = _replicating(["REPLICA"])
    check = _run_replication(verifier, stubber)
    assert check.status == "fail" and "REPLICA" in check.detail


def test_an_app_that_does_not_replicate_is_not_applicable_without_a_request():
    verifier, stubber, _, lines = _replicating([], replication=None)
    verifier.target.no_replication = "the app's bucket does not replicate"
    verifier.target.replicates = False
    check = _run_replication(verifier, stubber)
    assert (check.status, check.detail) == ("not applicable", "the app's bucket does not replicate")
    assert lines[-1].startswith("verify: replication not applicable (")


def test_an_app_whose_replication_is_unknown_is_skipped():
    verifier, stubber, _, lines = _replicating([], replication=None)
    check = _run_replication(verifier, stubber)
    assert check.status == "skipped" and "give STACK= or FROM=" in check.detail


def test_skip_replication_on_request_makes_no_request():
    """`SKIP=replication`: a replicating app's check is listed as skipped, and no scratch object is written."""
    verifier, stubber, _, lines = _replicating([])
    verifier.skip = ("replication",)
    check = _run_replication(verifier, stubber)
    assert (check.status, check.detail) == ("skipped", "skipped on request (SKIP=)")


def test_an_interrupted_wait_deletes_the_object_and_does_not_pass():
    """Ctrl-C while the object is PENDING: the scratch object is deleted, and the check is not reported as passed."""
    def interrupted(_seconds: float) -> None:
        raise KeyboardInterrupt

    verifier, stubber, _, lines = _replicating(["PENDING"], sleep=interrupted)
    with stubber, pytest.raises(KeyboardInterrupt):
        verifier._replication()
    stubber.assert_no_pending_responses()
    assert verifier.scratch == [] and verifier.checks[-1].status == "skipped"
    _no_pass_but_the_verdict(lines, "interrupted")


def test_a_check_stopped_by_an_error_is_skipped_and_shown_interrupted_never_passed():
    """The progress line and the check say `pass` only when the check ran to its end."""
    verifier, _, _, lines = _replicating([])
    with pytest.raises(VerifyError), verifier.check("credentials"):
        raise VerifyError("cannot be reached")
    assert verifier.checks[-1].status == "skipped" and lines[-1].startswith("verify: credentials interrupted (")


def test_an_unreachable_endpoint_is_unanswered_never_pass():
    """botocore's connection errors end the run (exit 2); the check is not answered, and says so."""
    import botocore.exceptions
    verifier, _, _, lines = _replicating([])
    with pytest.raises(VerifyError, match="cannot be reached"), verifier.check("credentials"):
        raise botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:9")
    assert verifier.checks[-1].status == "skipped"
    assert lines[-1].startswith("verify: credentials unanswered: the endpoint cannot be reached (")


def test_the_outputs_say_where_each_app_replicates(prod_plan, dev_plan):
    """Replication declares `<bucket>-replica` in the replica region and the role `<bucket>-replication`; the app's
    output names them, and is None where nothing replicates (MinIO, or no `replication` config)."""
    for app in ("eventhorizon", "vista", "chat"):
        bucket = f"app-storage-prod-{app}"
        assert prod_plan.outputs[app]["replication"] == {
            "replica_bucket_name": f"{bucket}-replica", "replica_region": "us-west-2",
            "role_name": f"{bucket}-replication", "replication_time_control": False}
        names = {r.inputs.get("bucket") for r in prod_plan.resources if r.type == "aws:s3/bucket:Bucket"}
        assert f"{bucket}-replica" in names
        assert any(r.type == "aws:iam/role:Role" and r.inputs.get("name") == f"{bucket}-replication"
                   for r in prod_plan.resources)
        assert dev_plan.outputs[app]["replication"] is None


def test_verify_reads_the_replication_from_the_outputs(shown_plans, connection_shapes, tmp_path):
    env_file = tmp_path / "app.env"
    env_file.write_text("".join(f"{k}='{v}'\n" for k, v in dialects.render_env(
        "s3", connection_shapes["aws-private"]).items()))
    outputs = json.loads(json.dumps(shown_plans["prod"].outputs))
    outputs_file = tmp_path / "outputs.json"

    def read(chat: dict) -> Target:
        outputs_file.write_text(json.dumps({**outputs, "chat": chat}))
        return read_target(env_file, None, None, outputs_file, None)[0]

    assert read(outputs["chat"]).replication == outputs["chat"]["replication"]
    assert "does not replicate" in read({**outputs["chat"], "replication": None}).no_replication
    older = {k: v for k, v in outputs["chat"].items() if k != "replication"}
    assert read(older).replication is None and "older app-storage" in read(older).no_replication
    with pytest.raises(VerifyError, match="not of the shape"):
        read({**outputs["chat"], "replication": {"replica_bucket_name": 3}})
    assert "give STACK= or FROM=" in Target({"bucket": "b"}).no_replication


def test_every_other_bucket_is_tried_and_the_one_that_answers_is_named():
    """An identity that may list the second other bucket fails `other-bucket-refused` naming it (the first other
    bucket refusing proves nothing about the rest)."""
    verifier, _, _, _ = _replicating([], replication=None)
    verifier.target.other_buckets = ["a-first", "b-second", "c-third"]
    stubber = Stubber(verifier.client)
    stubber.add_client_error("list_objects_v2", "AccessDenied", http_status_code=403,
                             expected_params={"Bucket": "a-first", "MaxKeys": 1})
    stubber.add_response("list_objects_v2", {"KeyCount": 0}, {"Bucket": "b-second", "MaxKeys": 1})
    with stubber:
        verifier._other_bucket_refused()
    check = verifier.checks[-1]
    assert (check.status, check.detail) == ("fail", "the identity may list bucket b-second")
    verifier, _, _, _ = _replicating([], replication=None)
    verifier.target.other_buckets = ["a-first", "b-second"]
    stubber = Stubber(verifier.client)
    for bucket in ("a-first", "b-second"):
        stubber.add_client_error("list_objects_v2", "AccessDenied", http_status_code=403,
                                 expected_params={"Bucket": bucket, "MaxKeys": 1})
    with stubber:
        verifier._other_bucket_refused()
    assert (verifier.checks[-1].status, verifier.checks[-1].detail) == ("pass", "2 other buckets refuse a listing")


def test_a_missing_bucket_leaves_the_key_unproven():
    verifier, _, _, _ = _replicating([], replication=None)
    stubber = Stubber(verifier.client)
    stubber.add_client_error("list_objects_v2", "NoSuchBucket", http_status_code=404)
    with stubber:
        verifier._credentials_and_bucket()
    assert [(c.name, c.status) for c in verifier.checks] == [("credentials", "skipped"), ("bucket", "fail")]


def test_botocore_is_given_three_tries_in_all():
    """botocore's `max_attempts` counts retries after the first (four requests for 3); `total_max_attempts` counts
    every try (botocore docs, "Retries": total_max_attempts)."""
    from cli.verify import ATTEMPTS, client_config
    assert client_config("path").retries == {"total_max_attempts": ATTEMPTS, "mode": "standard"} and ATTEMPTS == 3


def test_scratch_objects_expire_a_day_after_an_interrupted_run_on_both_backends(prod_plan, dev_plan):
    """Each app bucket's lifecycle expires what `make verify` leaves under every area's scratch prefix (a killed
    run's objects, and the noncurrent versions and delete markers a versioned bucket keeps of each scratch object)
    after a day; the app's identity keeps no right to delete versions."""
    for plan, kind in ((prod_plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"),
                       (dev_plan, "minio:index/ilmPolicy:IlmPolicy")):
        for app, outputs in ((app, plan.outputs[app]) for app in ("vista", "chat", "eventhorizon")):
            [lifecycle] = [r for r in plan.of_type(kind) if r.inputs["bucket"] == outputs["bucket_name"]]
            scratch = {rule["id"]: rule for rule in lifecycle.inputs["rules"] if "verify-scratch" in rule["id"]}
            prefixes = outputs["connection"]["area_prefixes"].values()
            assert len(scratch) == len(prefixes), app
            for rule in scratch.values():
                if kind.startswith("aws"):
                    assert rule["filter"]["prefix"].endswith(SCRATCH_PREFIX)
                    assert rule["expiration"] == {"days": 1}
                    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 1}
                else:
                    assert rule["filter"].endswith(SCRATCH_PREFIX) and rule["expiration"] == "1d"
                    assert rule["noncurrentVersionExpirationDays"] == 1
    for policy in prod_plan.of_type("aws:iam/groupPolicy:GroupPolicy"):
        assert "s3:DeleteObjectVersion" not in policy.inputs["policy"]


def test_credentials_written_into_a_url_never_reach_a_message_or_the_report():
    """botocore quotes the whole endpoint URL when it refuses one; a report names its endpoint."""
    from cli.verify import shown_endpoint, without_credentials

    assert shown_endpoint("http://user:hunter2@127.0.0.1:99999/x") == "http://127.0.0.1:99999"
    assert shown_endpoint("https://s3.us-east-1.amazonaws.com") == "https://s3.us-east-1.amazonaws.com"
    refused = "Custom endpoint `http://user:hunter2@127.0.0.1:99999` was not a valid URI"
    assert without_credentials(refused) == "Custom endpoint `http://127.0.0.1:99999` was not a valid URI"
