"""`make verify` on SeaweedFS, a server that enforces what moto does not: IAM policy documents with their conditions
(`s3:prefix`), bucket policies, and anonymous and presigned requests. The dev stack's apps are provisioned from
the dev stack's own plan: each app's bucket, its identity holding exactly the plan's MinIO policy document, its
public-read bucket policy, and the plan's (mock) key; `.env` files are rendered in each app's dialect as `make env`
does.

No relay in front of SeaweedFS except where a test needs time to act (Ctrl-C in the middle of a run): every
verdict here is the server's own.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from cli.verify import ATTEMPTS, CONNECT_SECONDS, READ_SECONDS, SCRATCH_PREFIX
from components import dialects
from tests.contract.moto_server import Relay
from tests.contract.seaweed_server import SeaweedServer
from tests.helpers import ROOT, run_cli

APPS = ("vista", "chat", "eventhorizon")
BOUND_SECONDS = ATTEMPTS * (CONNECT_SECONDS + READ_SECONDS) + 3
"""The README's bound for an endpoint that never answers: three tries of 3 s + 10 s, and botocore's backoff."""


def _policy(plan, app: str) -> dict:
    return json.loads(next(r.inputs["policy"] for r in plan.resources if r.name == f"{app}-identity-policy"))


def _second_other_bucket_listable(document: dict, bucket: str) -> dict:
    widened = copy.deepcopy(document)
    widened["Statement"].append({"Sid": "ListAnother", "Effect": "Allow", "Action": ["s3:ListBucket"],
                                 "Resource": [f"arn:aws:s3:::{bucket}"]})
    return widened


def _whole_bucket(document: dict, bucket: str) -> dict:
    """The app's document with its prefixes gone: it may list and write anywhere in its bucket."""
    widened = copy.deepcopy(document)
    for statement in widened["Statement"]:
        statement.pop("Condition", None)
        if statement["Sid"] == "ReadWriteAreaObjects":
            statement["Resource"] = [f"arn:aws:s3:::{bucket}/*"]
    return widened


class Dev:
    """The dev stack's apps on SeaweedFS, their outputs pointed at the server, and `.env` files from them."""

    def __init__(self, plan, tmp: Path):
        self.plan, self.tmp = plan, tmp
        self.outputs = json.loads(json.dumps(plan.outputs))
        self.buckets = {app: self.outputs[app]["connection"]["bucket"] for app in APPS}
        others = sorted(bucket for app, bucket in self.buckets.items() if app != "vista")
        self.second_other = others[1]
        documents = {app: _policy(plan, app) for app in APPS}
        documents["vista-wide"] = _whole_bucket(documents["vista"], self.buckets["vista"])
        documents["vista-second"] = _second_other_bucket_listable(documents["vista"], self.second_other)
        self.keys = {name: (self.outputs["vista" if name.startswith("vista") else name]["connection"]
                            ["access_key_id"] + ("" if name in APPS else f"-{name}"),
                            self.outputs[f"{name.split('-')[0]}_secret_access_key"]) for name in documents}
        identities = [{"name": name, "access_key": key, "secret_key": secret, "policy_names": [name]}
                      for name, (key, secret) in self.keys.items()]
        self.server = SeaweedServer(identities, documents)

    def __enter__(self) -> Dev:
        self.server.__enter__()
        try:
            self.s3 = self.server.client()
            for app, bucket in self.buckets.items():
                self.s3.create_bucket(Bucket=bucket)
                self.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
                policy = [r for r in self.plan.resources if r.name == f"{app}-storage-policy"]
                if policy:
                    self.s3.put_bucket_policy(Bucket=bucket, Policy=policy[0].inputs["policy"])
                connection = self.outputs[app]["connection"]
                connection["endpoint"] = self.server.url
                if connection.get("public_base_url"):
                    connection["public_base_url"] = f"{self.server.url}/{bucket}"
            (self.tmp / "outputs.json").write_text(json.dumps(self.outputs))
        except BaseException:  # a setup that fails stops the server it started
            self.server.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.server.__exit__(*exc)

    def env(self, app: str, identity: str | None = None, **changes: str) -> Path:
        """The app's `.env` in its dialect, as `make env` renders it from the outputs (dialects.render_env);
        `identity` another of the app's keys, `changes` other connection values (endpoint, bucket, secret)."""
        connection = {**self.outputs[app]["connection"], "secret_access_key": self.keys[app][1]}
        if identity:
            connection["access_key_id"], connection["secret_access_key"] = self.keys[identity]
        connection.update(changes)
        path = self.tmp / f"{app}-{identity or 'own'}-{len(list(self.tmp.glob('*.env')))}.env"
        values = dialects.render_env(self.outputs[app]["dialect"], connection)
        path.write_text("".join(f"{name}='{value}'\n" for name, value in values.items()))
        return path

    def verify(self, app: str, env_file: Path | None = None, *extra: str) -> subprocess.CompletedProcess:
        return run_cli("verify", "--env", str(env_file or self.env(app)), "--from", str(self.tmp / "outputs.json"),
                       "--json", *extra)

    def scratch_left(self, app: str) -> list[str]:
        """Current objects under any area's scratch prefix of the app's bucket (versions and markers aside)."""
        listed = self.s3.list_objects_v2(Bucket=self.buckets[app]).get("Contents", [])
        return [item["Key"] for item in listed if SCRATCH_PREFIX in item["Key"]]


@pytest.fixture(scope="module")
def dev(shown_plans, tmp_path_factory):
    with Dev(shown_plans["dev"], tmp_path_factory.mktemp("seaweed")) as provisioned:
        yield provisioned


def _report(result) -> dict:
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def _statuses(report: dict) -> dict[str, str]:
    return {check["name"]: check["status"] for check in report["checks"]}


@pytest.mark.parametrize("app", APPS)
def test_every_healthy_dev_app_is_healthy(dev, app):
    """Nothing skipped, nothing failed: CORS on MinIO is server-wide and public-read only where the app has
    public areas, so those are `not applicable`, never skipped; listing outside the areas is refused by the
    `s3:prefix` condition, which SeaweedFS enforces."""
    result = dev.verify(app)
    report = _report(result)
    assert result.returncode == 0 and report["overall_status"] == "healthy", json.dumps(report["checks"], indent=1)
    statuses = _statuses(report)
    assert statuses["listing-limited-to-areas"] == "pass" and statuses["other-bucket-refused"] == "pass"
    assert statuses["unsigned-get-refused"] == "pass" and statuses["presigned-get"] == "pass"
    assert set(statuses.values()) <= {"pass", "not applicable"}
    assert dev.scratch_left(app) == []
    assert dev.keys[app][1] not in result.stdout + result.stderr


def test_an_identity_that_may_list_the_second_other_bucket_fails_naming_it(dev):
    report = _report(dev.verify("vista", dev.env("vista", "vista-second")))
    [check] = [c for c in report["checks"] if c["name"] == "other-bucket-refused"]
    assert check["status"] == "fail" and check["detail"] == f"the identity may list bucket {dev.second_other}"
    assert report["overall_status"] == "failing"


def test_an_identity_without_its_prefixes_fails_listing_and_writing_outside(dev):
    report = _report(dev.verify("vista", dev.env("vista", "vista-wide")))
    statuses = _statuses(report)
    assert statuses["listing-limited-to-areas"] == "fail" and statuses["write-outside-areas-refused"] == "fail"
    assert dev.scratch_left("vista") == []  # the write that should have been refused is removed again


def test_a_wrong_secret_fails_the_credentials_check(dev):
    report = _report(dev.verify("chat", dev.env("chat", secret_access_key="not-the-secret")))
    [check] = [c for c in report["checks"] if c["name"] == "credentials"]
    assert "SignatureDoesNotMatch" in check["detail"] or "InvalidAccessKeyId" in check["detail"]
    assert _statuses(report)["credentials"] == "fail" and _statuses(report)["bucket"] == "skipped"


def test_a_missing_bucket_fails_the_bucket_and_leaves_the_key_unproven(dev):
    env = dev.env("chat", bucket="no-such-bucket-here")
    result = dev.verify("chat", env, "--app", "chat")
    report = _report(result)
    [credentials, bucket] = report["checks"][:2]
    assert bucket["status"] == "fail" and result.returncode == 1
    # SeaweedFS authenticates first and then refuses (AccessDenied: no policy covers that bucket), which proves
    # the key; a server answering NoSuchBucket before any check of the signature leaves it unproven (skipped).
    assert (credentials["status"], credentials["detail"]) in (
        ("pass", "the server judged the request (AccessDenied), so the signature was accepted"),
        ("skipped", "not answered: the bucket does not exist"))


def test_a_private_object_readable_anonymously_fails(dev):
    bucket = dev.buckets["chat"]
    dev.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{bucket}/*"]}]}))
    try:
        report = _report(dev.verify("chat"))
    finally:
        dev.s3.delete_bucket_policy(Bucket=bucket)
    [check] = [c for c in report["checks"] if c["name"] == "unsigned-get-refused"]
    assert check["status"] == "fail" and "readable anonymously" in check["detail"]


class _Silent:
    """A port that accepts connections and never answers: a hung endpoint."""

    def __enter__(self) -> str:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.accepted: list[socket.socket] = []
        self.open = True

        def accept() -> None:
            while self.open:
                try:
                    self.accepted.append(self.socket.accept()[0])
                except OSError:
                    return
        threading.Thread(target=accept, daemon=True).start()
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def __exit__(self, *_exc) -> None:
        self.open = False
        self.socket.close()
        for connection in self.accepted:
            connection.close()


def test_a_hung_endpoint_never_passes_and_ends_within_the_bound(dev):
    """Three tries in all (not botocore's four), each read given 10 s: exit 2 within the README's bound, and no
    progress line says pass."""
    silent = _Silent()
    with silent as url:
        env = dev.env("chat", endpoint=url)
        started = time.monotonic()
        result = run_cli("verify", "--env", str(env), "--from", str(dev.tmp / "outputs.json"), "--app", "chat")
        took = time.monotonic() - started
        tries = len(silent.accepted)
    assert result.returncode == 2 and took < BOUND_SECONDS, (result.returncode, took)
    assert tries == ATTEMPTS  # one connection per try: the first and two retries
    assert " pass" not in result.stderr and "unanswered" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("make verify: ")
    assert "Traceback" not in result.stderr


def test_an_unreachable_endpoint_exits_2_at_once(dev):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    result = run_cli("verify", "--env", str(dev.env("chat", endpoint=f"http://127.0.0.1:{port}")),
                     "--from", str(dev.tmp / "outputs.json"), "--app", "chat")
    assert result.returncode == 2 and " pass" not in result.stderr and "cannot be reached" in result.stderr


class _SlowAfterScratch(Relay):
    """A pass-through to SeaweedFS that, once a scratch object is written, holds every later answer for a while:
    time for the test to press Ctrl-C in the middle of the run. Deletes pass at once (the cleanup)."""

    def __init__(self, port: int):
        super().__init__(port)
        self.written = threading.Event()

    def exchange(self, command: str, path: str, headers: dict, body: bytes):
        key = urllib.parse.unquote(urllib.parse.urlsplit(path).path)
        if self.written.is_set() and command != "DELETE":
            time.sleep(2)
        answer = super().exchange(command, path, headers, body)
        if command == "PUT" and SCRATCH_PREFIX in key:
            self.written.set()
        return answer


@pytest.mark.parametrize("signal_number, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_run_says_one_line_exits_by_convention_and_leaves_no_scratch_object(dev, signal_number,
                                                                                          code):
    with _SlowAfterScratch(dev.server.port) as relay:
        env = dev.env("vista", endpoint=relay.url, public_base_url=f"{relay.url}/{dev.buckets['vista']}")
        process = subprocess.Popen([sys.executable, "-m", "cli", "verify", "--env", str(env), "--from",
                                    str(dev.tmp / "outputs.json")], cwd=ROOT, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=os.environ)
        try:
            assert relay.written.wait(60), "verify wrote no scratch object"
            process.send_signal(signal_number)
            stdout, stderr = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == code, stderr
    assert stdout == "" and "Traceback" not in stderr
    last = stderr.strip().splitlines()
    assert last[-1].startswith("make verify: ") and "scratch objects were removed" in last[-1]
    assert " pass" not in last[-2] and "interrupted" in last[-2]
    assert dev.scratch_left("vista") == []
