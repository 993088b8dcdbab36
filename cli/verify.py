"""`make verify`: check provisioned storage live, the way the app will use it, from the app's own `.env`.

The `.env` (any dialect, detected from its variables) gives the endpoint and the credentials; the stack
outputs (`STACK=`/`FROM=`, as `make env` reads them) add what a dialect does not carry: the areas, the public
base URL, the CORS origins, the other apps' buckets and where the bucket replicates. Each check is one small live
request with boto3 (or plain HTTP for what a browser or an anonymous reader does), with a bounded timeout and
retries with backoff; only `replication` waits longer, polling up to its bound for S3 to replicate an object.
Every scratch object is deleted again, on failure and on Ctrl-C too. Secrets are never printed.

A check's status is what it observed: `pass` only once its requests answered as expected; `fail`; `skipped`
(asked for with SKIP=, or it could not be answered); `not applicable` (the stack has nothing for it to check).
Only `fail` fails the report, only `skipped` degrades it. An unreachable endpoint, a timeout or an interrupt
never reads as pass: the run stops there (exit 2, 130 on Ctrl-C, 143 on SIGTERM), scratch objects removed.

Exit codes: 0 healthy or degraded; 1 a check failed; 2 bad input, or an endpoint that cannot be reached.
"""

from __future__ import annotations

import functools
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
from botocore import UNSIGNED
from botocore.config import Config
from dotenv import dotenv_values

from cli.offline import evaluate_stack
from cli.stack_outputs import OutputsError, app_names, connection_of, read_outputs
from components import dialects, naming

CONNECT_SECONDS = 3
READ_SECONDS = 10
ATTEMPTS = 3
"""Tries per request: the first and at most two retries (botocore's `total_max_attempts`; its `max_attempts`
counts retries after the first). With CONNECT_SECONDS and READ_SECONDS, an endpoint that never answers ends the
run within ATTEMPTS * (CONNECT_SECONDS + READ_SECONDS) plus botocore's backoff (under 1 s, then under 2 s):
at most 42 s."""
OTHER_BUCKETS_TRIED = 20
"""The other apps' buckets `other-bucket-refused` tries at most (one listing each)."""
PASS, FAIL, SKIPPED, NOT_APPLICABLE = "pass", "fail", "skipped", "not applicable"
SCRATCH_PREFIX = naming.VERIFY_SCRATCH_PREFIX
"""Scratch objects go under each area's prefix, in a folder of their own."""
OUTSIDE_PREFIX = "app-storage-verify-outside-areas/"
AUTH_ERRORS = frozenset({"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
                         "InvalidClientTokenId", "AuthorizationHeaderMalformed"})
DENIED = frozenset({"AccessDenied", "AllAccessDisabled", "Forbidden", "403"})
SKIPPABLE = ("listing-limited-to-areas", "replication")
REPLICATION_TIMEOUT_SECONDS = 15 * 60
"""How long a scratch object may stay PENDING before `replication` fails (`--replication-timeout`,
REPLICATION_TIMEOUT=): what S3 Replication Time Control promises; replication without RTC promises no time."""
REPLICATION_POLL_SECONDS = 5.0
"""Between two HeadObject requests for the scratch object's replication status (`--replication-poll`)."""
REPLICATION_REPORT_SECONDS = 60
"""While the status stays PENDING, a progress line this often."""


class VerifyError(Exception):
    """Bad input or an unreachable endpoint (exit 2), one line."""


@dataclass
class Check:
    name: str
    status: str = ""
    """pass, fail, skipped or not applicable; empty until the check has answered (then pass, if nothing else)."""
    detail: str = ""
    milliseconds: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Target:
    """What the checks need to know about the app."""
    connection: dict
    other_buckets: list[str] = field(default_factory=list)
    cors_origins: list[str] = field(default_factory=list)
    app: str | None = None
    replication: dict | None = None
    """Where the bucket replicates (the app's `replication` output), or None."""
    no_replication: str = "no stack outputs say whether the bucket replicates (give STACK= or FROM=)"
    """Why `replication` is None: the `replication` check's reason."""
    outputs_known: bool = False
    """The stack outputs were read: what they leave out does not apply (rather than being unknown)."""
    replicates: bool | None = None
    """Whether the outputs say the bucket replicates; None: they do not say."""

    @property
    def bucket(self) -> str:
        return self.connection["bucket"]

    @property
    def areas(self) -> dict[str, str]:
        return self.connection.get("area_prefixes") or {}

    @property
    def public_areas(self) -> list[str]:
        return [a for a in self.connection.get("public_areas") or [] if a in self.areas]

    @property
    def private_areas(self) -> list[str]:
        return [a for a in self.areas if a not in self.public_areas]


@dataclass
class HealthReport:
    app: str | None
    bucket: str
    endpoint: str
    checks: list[Check]

    @property
    def overall_status(self) -> str:
        if any(check.status == FAIL for check in self.checks):
            return "failing"
        return "degraded" if any(check.status == SKIPPED for check in self.checks) else "healthy"

    def as_dict(self) -> dict:
        return {"overall_status": self.overall_status, "app": self.app, "bucket": self.bucket,
                "endpoint": self.endpoint, "checks": [check.as_dict() for check in self.checks]}


# --- the target: the .env, completed from the stack outputs ------------------------------------------------------


def read_target(env_path: Path, dialect: str | None, stack: str | None, from_file: Path | None,
                app: str | None) -> tuple[Target, str]:
    """The app's connection from its `.env` (and the stack outputs, where given), and the dialect it was read in."""
    if not env_path.is_file():
        raise VerifyError(f"{env_path}: no such .env file (ENV=<path to the app's .env>)")
    values = {k: v for k, v in dotenv_values(env_path).items() if v is not None}
    try:
        dialect = dialect or dialects.detect_dialect(values)
        connection = dialects.read_env(dialect, values)
    except dialects.DialectError as error:
        raise VerifyError(f"{env_path}: {error}") from None
    missing = [key for key in ("bucket", "region") if not connection.get(key)]
    if bool(connection.get("access_key_id")) != bool(connection.get("secret_access_key")):
        missing.append("secret_access_key" if connection.get("access_key_id") else "access_key_id")
    if missing:
        raise VerifyError(f"{env_path}: the {dialect} .env lacks {', '.join(missing)}; write it with `make env`")
    target = Target(connection)
    if stack or from_file:
        try:
            outputs = read_outputs(stack or "", from_file)
        except OutputsError as error:
            raise VerifyError(str(error)) from None
        _complete_from_outputs(target, outputs, app)
    if not target.areas:
        raise VerifyError(f"{env_path}: the .env ({dialect} dialect) does not name the app's areas; give the stack "
                          "outputs too (STACK=<stack>, or FROM=<outputs JSON>)")
    return target, dialect


def _complete_from_outputs(target: Target, outputs: dict, app: str | None) -> None:
    apps = {name: connection_of(outputs, name) or {} for name in app_names(outputs)}
    mine = app or next((name for name, connection in apps.items() if connection.get("bucket") == target.bucket), None)
    if mine is None or mine not in apps:
        raise VerifyError(f"no app of the stack outputs has bucket {target.bucket!r} (apps: "
                          f"{', '.join(apps) or 'none'}); set APP=<app>")
    declared = apps[mine]
    for key in ("area_prefixes", "public_areas", "presign_seconds", "public_base_url", "cdn_domain"):
        if declared.get(key) is not None and not target.connection.get(key):
            target.connection[key] = declared[key]
    target.app = mine
    target.cors_origins = list(outputs[mine].get("cors_origins") or [])
    target.other_buckets = sorted(c["bucket"] for name, c in apps.items() if name != mine and c.get("bucket"))
    target.outputs_known = True
    if "replication" not in outputs[mine]:
        target.no_replication = (f"the outputs of app {mine} do not say whether its bucket replicates (written by "
                                 "an older app-storage: `pulumi up` with this version adds it)")
        return
    replication = outputs[mine]["replication"]
    if replication is None:
        target.no_replication = "the app's bucket does not replicate (no `replication` in the stack config)"
        target.replicates = False
        return
    if not (isinstance(replication, dict) and all(isinstance(replication.get(key), str) and replication[key]
                                                  for key in ("replica_bucket_name", "replica_region"))):
        raise VerifyError(f"output {mine!r}: `replication` is not of the shape app-storage writes (replica_bucket_name,"
                          " replica_region); read the outputs again (`pulumi stack output --json --show-secrets`)")
    target.replication = dict(replication)


# --- requests -------------------------------------------------------------------------------------------------


def client_config(addressing: str, signed: bool = True) -> Config:
    """Bounded timeouts and tries (ATTEMPTS in all), S3 `addressing` (path, virtual or auto), SigV4 or unsigned."""
    return Config(signature_version="s3v4" if signed else UNSIGNED, connect_timeout=CONNECT_SECONDS,
                  read_timeout=READ_SECONDS, retries={"total_max_attempts": ATTEMPTS, "mode": "standard"},
                  s3={"addressing_style": addressing})


def s3_client(connection: dict, credentials: dict | None = None, signed: bool = True):
    """A client as the app builds one from its `.env` (SigV4; a role app's `.env` has no key, and the SDK's default
    chain finds the role), or with `credentials` (admin), or none (unsigned)."""
    keys = credentials if credentials is not None else {
        "aws_access_key_id": connection["access_key_id"], "aws_secret_access_key": connection["secret_access_key"]
    } if connection.get("access_key_id") else {}
    return boto3.client("s3", endpoint_url=connection.get("endpoint") or None, region_name=connection["region"],
                        config=client_config("path" if connection.get("path_style") else "virtual", signed),
                        **(keys if signed else {}))


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: bytes


def http(url: str, method: str = "GET", headers: dict | None = None) -> HttpAnswer:
    """One plain HTTP request as a browser or an anonymous reader makes it; connection failures are retried."""
    for attempt in range(ATTEMPTS):
        request = urllib.request.Request(url, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=READ_SECONDS) as response:
                return HttpAnswer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return HttpAnswer(error.code, dict(error.headers), error.read())
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            if attempt == ATTEMPTS - 1:
                raise VerifyError(f"{shown_endpoint(url)} cannot be reached: "
                                  f"{getattr(error, 'reason', error)}") from None
            time.sleep(0.2 * 2 ** attempt)
    raise AssertionError("unreachable")


def error_code(error: botocore.exceptions.ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]*@")


def without_credentials(text: str) -> str:
    """`text` (a message that may quote a URL, as botocore's do) without the credentials written into any URL."""
    return _URL_CREDENTIALS.sub("", text)


def shown_endpoint(endpoint: str) -> str:
    """An endpoint URL as a message may show it: scheme, host and port, never credentials written into it."""
    parts = urllib.parse.urlsplit(without_credentials(endpoint))
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "?"


def _unreachable(error: Exception, endpoint: str) -> VerifyError:
    return VerifyError(f"{shown_endpoint(endpoint)} cannot be reached within {CONNECT_SECONDS} s ({ATTEMPTS} tries): "
                       f"{type(error).__name__}")


NETWORK_ERRORS = (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError,
                  botocore.exceptions.ReadTimeoutError, botocore.exceptions.ConnectionClosedError)


# --- the checks -------------------------------------------------------------------------------------------------


class Verifier:
    def __init__(self, target: Target, progress: Callable[[str], None], skip: tuple[str, ...] = (),
                 admin: dict | None = None, declared: dict | None = None,
                 replication_timeout: float = REPLICATION_TIMEOUT_SECONDS,
                 replication_poll: float = REPLICATION_POLL_SECONDS,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic):
        self.target = target
        self.replication_timeout = replication_timeout
        self.replication_poll = replication_poll
        self.sleep, self.clock = sleep, clock
        self.progress = progress
        self.skip = skip
        self.admin = admin
        self.declared = declared
        self.client = s3_client(target.connection)
        self.anonymous = s3_client(target.connection, signed=False)
        self.endpoint = target.connection.get("endpoint") or f"https://s3.{target.connection['region']}.amazonaws.com"
        self.checks: list[Check] = []
        self.scratch: list[str] = []
        self.run_id = uuid.uuid4().hex[:12]

    @contextmanager
    def check(self, name: str) -> Iterator[Check]:
        """One check: `pass` only when its body ran to the end without setting another status."""
        found = Check(name)
        self.progress(f"verify: {name} …")
        started = time.perf_counter()
        if name in self.skip:
            found.status, found.detail = SKIPPED, "skipped on request (SKIP=)"
        shown = ""
        try:
            yield found
            found.status = found.status or PASS
        except NETWORK_ERRORS as error:
            found.status, found.detail = SKIPPED, "the endpoint did not answer"
            shown = "unanswered: the endpoint cannot be reached"
            raise _unreachable(error, self.endpoint) from None
        except botocore.exceptions.ClientError as error:
            message = error.response.get("Error", {}).get("Message", "")
            found.status, found.detail = FAIL, f"{error_code(error) or 'error'}: {message}".strip(": ")
        except BaseException as error:  # Ctrl-C, SIGTERM, a bug: the check did not pass, and the run stops
            found.status, found.detail = SKIPPED, f"interrupted: {type(error).__name__}"
            shown = "interrupted"
            raise
        finally:
            found.milliseconds = round((time.perf_counter() - started) * 1000)
            self.checks.append(found)
            self.progress(f"verify: {name} {shown or found.status} ({found.milliseconds} ms)")

    def key(self, area: str, label: str) -> str:
        return f"{naming.verify_scratch_prefix(self.target.areas[area])}{self.run_id}-{label}"

    def put_scratch(self, key: str, body: bytes) -> None:
        self.scratch.append(key)
        self.client.put_object(Bucket=self.target.bucket, Key=key, Body=body)

    def cleanup(self) -> None:
        """Delete every scratch object this run wrote (best effort; what cannot be deleted is named)."""
        left = []
        for key in self.scratch:
            try:
                self.client.delete_object(Bucket=self.target.bucket, Key=key)
            except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
                left.append(key)
        self.scratch.clear()
        if left:
            self.progress(f"verify: could not delete scratch objects {', '.join(left)}")

    def object_url(self, key: str) -> str:
        return self.anonymous.generate_presigned_url("get_object", Params={"Bucket": self.target.bucket, "Key": key})

    def run(self) -> list[Check]:
        try:
            self._credentials_and_bucket()
            if self.checks[-1].status == PASS:
                for area in self.target.areas:
                    self._round_trip(area)
                self._listing_limited()
                self._write_outside_refused()
                self._other_bucket_refused()
                self._presigned_and_unsigned()
                self._public_areas()
                self._cors()
                if self.admin is not None:
                    self._drift()
                self._replication()
        finally:
            self.cleanup()
        return self.checks

    def _credentials_and_bucket(self) -> None:
        first = next(iter(self.target.areas.values()))
        outcome: str | None = None
        with self.check("credentials") as check:
            try:
                self.client.list_objects_v2(Bucket=self.target.bucket, Prefix=first, MaxKeys=1)
            except botocore.exceptions.ClientError as error:
                outcome = error_code(error)
                if outcome in AUTH_ERRORS:
                    check.status, check.detail = FAIL, f"{outcome}: the .env's access key or secret is not valid"
            else:
                check.detail = "the access key signs requests the server accepts"
            if outcome in ("NoSuchBucket", "404"):
                # The listing never reached a check of the signature: the key is neither proven nor refused.
                check.status, check.detail = SKIPPED, "not answered: the bucket does not exist"
            elif outcome and outcome not in AUTH_ERRORS:
                check.detail = f"the server judged the request ({outcome}), so the signature was accepted"
        with self.check("bucket") as check:
            if outcome == "NoSuchBucket":
                check.status, check.detail = FAIL, f"bucket {self.target.bucket} does not exist"
            elif outcome in AUTH_ERRORS:
                check.status, check.detail = SKIPPED, "credentials refused"
            elif outcome:
                check.status, check.detail = FAIL, f"{outcome} listing the first area of {self.target.bucket}"
            else:
                check.detail = f"{self.target.bucket} answers a listing of the app's first area"

    def _round_trip(self, area: str) -> None:
        with self.check(f"area {area}: put, head, get, delete") as check:
            key, body = self.key(area, "round-trip"), f"app-storage verify {self.run_id}".encode()
            self.put_scratch(key, body)
            self.client.head_object(Bucket=self.target.bucket, Key=key)
            read = self.client.get_object(Bucket=self.target.bucket, Key=key)["Body"].read()
            self.client.delete_object(Bucket=self.target.bucket, Key=key)
            self.scratch.remove(key)
            if read != body:
                check.status, check.detail = FAIL, "the object read back differs from the one written"
            else:
                check.detail = self.target.areas[area] or "(whole bucket)"

    def _expect_denied(self, check: Check, call: Callable[[], Any], allowed: str) -> bool:
        try:
            call()
        except botocore.exceptions.ClientError as error:
            if error_code(error) in DENIED:
                check.detail = f"refused ({error_code(error)})"
                return True
            check.status, check.detail = FAIL, f"{error_code(error)} instead of AccessDenied"
            return False
        check.status, check.detail = FAIL, allowed
        return False

    def _listing_limited(self) -> None:
        with self.check("listing-limited-to-areas") as check:
            if check.status == SKIPPED:
                return
            if "" in self.target.areas.values():
                check.status, check.detail = NOT_APPLICABLE, "an area covers the whole bucket"
                return
            self._expect_denied(check, lambda: self.client.list_objects_v2(
                Bucket=self.target.bucket, Prefix=OUTSIDE_PREFIX, MaxKeys=1),
                f"the identity may list {OUTSIDE_PREFIX}, outside its areas")

    def _write_outside_refused(self) -> None:
        with self.check("write-outside-areas-refused") as check:
            if "" in self.target.areas.values():
                check.status, check.detail = NOT_APPLICABLE, "an area covers the whole bucket"
                return
            key = f"{OUTSIDE_PREFIX}{self.run_id}"
            if not self._expect_denied(check, lambda: self.put_scratch(key, b"must be refused"),
                                       f"the identity may write {key}, outside its areas"):
                return
            self.scratch.remove(key)

    def _other_bucket_refused(self) -> None:
        """Every other app's bucket (at most OTHER_BUCKETS_TRIED) must refuse this identity a listing."""
        with self.check("other-bucket-refused") as check:
            if not self.target.other_buckets:
                check.status, check.detail = (NOT_APPLICABLE, "the stack has no other app") if \
                    self.target.outputs_known else (SKIPPED, "no other app's bucket known (give STACK= or FROM=)")
                return
            tried = self.target.other_buckets[:OTHER_BUCKETS_TRIED]
            for other in tried:
                listing = functools.partial(self.client.list_objects_v2, Bucket=other, MaxKeys=1)
                allowed = f"the identity may list bucket {other}"
                if not self._expect_denied(check, listing, allowed):
                    if check.detail != allowed:  # another error than a refusal: say which bucket gave it
                        check.detail = f"{other}: {check.detail}"
                    return
            left = len(self.target.other_buckets) - len(tried)
            check.detail = f"{len(tried)} other buckets refuse a listing" + (
                f" ({left} more not tried)" if left else "")

    def _presigned_and_unsigned(self) -> None:
        private = self.target.private_areas
        key = self.key(private[0], "private") if private else ""
        with self.check("presigned-get") as check:
            if not private:
                check.status, check.detail = NOT_APPLICABLE, "the app has no private area"
            else:
                self.put_scratch(key, b"private")
                url = self.client.generate_presigned_url("get_object", ExpiresIn=60,
                                                         Params={"Bucket": self.target.bucket, "Key": key})
                answer = http(url)
                if answer.status != 200 or answer.body != b"private":
                    check.status, check.detail = FAIL, f"HTTP {answer.status} for a presigned GET"
                else:
                    check.detail = f"area {private[0]}"
        with self.check("unsigned-get-refused") as check:
            if not private:
                check.status, check.detail = NOT_APPLICABLE, "the app has no private area"
                return
            urls = [self.object_url(key)]
            base = self.target.connection.get("public_base_url")
            if base:
                urls.append(f"{base.rstrip('/')}/{urllib.parse.quote(key)}")
            readable = [url for url in urls if http(url).status == 200]
            if readable:
                check.status, check.detail = FAIL, f"a private object is readable anonymously at {readable[0]}"
            else:
                check.detail = "private objects answer 403 without a signature"

    def _public_areas(self) -> None:
        base = self.target.connection.get("public_base_url")
        for area in self.target.public_areas:
            with self.check(f"public-read {area}") as check:
                if not base:
                    check.status, check.detail = SKIPPED, "no public base URL (no CDN serves the public areas)"
                    continue
                key = self.key(area, "public")
                self.put_scratch(key, b"public")
                answer = http(f"{base.rstrip('/')}/{urllib.parse.quote(key)}")
                if answer.status != 200:
                    check.status, check.detail = FAIL, f"HTTP {answer.status} reading {base} without credentials"
                else:
                    check.detail = f"{base} serves {self.target.areas[area]} anonymously"
        if not self.target.public_areas:
            with self.check("public-read") as check:
                check.status, check.detail = NOT_APPLICABLE, "the app has no public area"

    def _cors(self) -> None:
        origins = [o for o in self.target.cors_origins if o != "*"]
        reason = ("the app has no CORS rules" if not self.target.cors_origins else
                  "MinIO answers CORS server-wide, not per bucket" if self.target.connection.get("backend") == "minio"
                  else "the rules allow any origin" if not origins else "")
        url = self.object_url(f"{naming.verify_scratch_prefix(next(iter(self.target.areas.values())))}preflight")
        for name, origin, wanted in (("cors-allowed-origin", origins[0] if origins else "", True),
                                     ("cors-other-origin-refused", "https://not-an-allowed-origin.invalid", False)):
            with self.check(name) as check:
                if reason:
                    check.status, check.detail = NOT_APPLICABLE, reason
                    continue
                answer = http(url, "OPTIONS", {"Origin": origin, "Access-Control-Request-Method": "PUT"})
                allowed = answer.status == 200 and {k.lower(): v for k, v in answer.headers.items()}.get(
                    "access-control-allow-origin") in (origin, "*")
                if allowed != wanted:
                    check.status = FAIL
                check.detail = f"preflight from {origin}: HTTP {answer.status}, {'allowed' if allowed else 'refused'}"

    def _drift(self) -> None:
        admin = s3_client(self.target.connection, self.admin)
        bucket = self.target.bucket
        for name, declared, live in drift_pairs(self.declared or {}, admin, bucket):
            with self.check(f"drift: {name}") as check:
                if declared is None:
                    check.status, check.detail = NOT_APPLICABLE, "the stack declares nothing for it"
                elif declared != live:
                    check.status, check.detail = FAIL, f"declared {declared}, live {live}"
                else:
                    check.detail = str(live)

    def _replication(self) -> None:
        """Where the bucket replicates: a scratch object's replication status (HeadObject's `ReplicationStatus`)
        must reach COMPLETED within the bound. S3 gives a source object PENDING, then COMPLETED or FAILED, and no
        status at all where no replication rule covers it; FAILED is final, and S3 keeps an object PENDING while
        the destination is unavailable (S3 User Guide, "Getting replication status information")."""
        with self.check("replication") as check:
            replication = self.target.replication
            if check.status == SKIPPED:
                return  # on request: e.g. a deployment whose role IAM has not yet made usable
            if replication is None:
                check.status = NOT_APPLICABLE if self.target.replicates is False else SKIPPED
                check.detail = self.target.no_replication
                return
            replica = f"{replication['replica_bucket_name']} ({replication['replica_region']})"
            key = self.key(next(iter(self.target.areas)), "replication")
            self.put_scratch(key, f"app-storage verify {self.run_id}: replication".encode())
            try:
                status, waited = self._await_replication(key)
            finally:
                removed = self._remove_replicated(key, replication)
            verdict = self._replication_verdict(status, waited, replica, replication)
            if status in ("COMPLETED", "COMPLETE"):
                check.detail = f"{verdict}; {removed}"
            else:
                check.status, check.detail = FAIL, f"{verdict}; {removed}"

    def _await_replication(self, key: str) -> tuple[str | None, float]:
        """The scratch object's replication status once it is not PENDING, or PENDING when the bound ran out;
        and the seconds waited. A progress line when the status changes, and every minute it does not."""
        started, last, report_at = self.clock(), "?", float(REPLICATION_REPORT_SECONDS)
        while True:
            status = self.client.head_object(Bucket=self.target.bucket, Key=key).get("ReplicationStatus")
            waited = self.clock() - started
            if status != last or waited >= report_at:
                self.progress(f"verify: replication: {status or 'no replication status'} after {waited:.0f} s "
                              f"(bound {self.replication_timeout:g} s)")
                last = status
                while report_at <= waited:
                    report_at += REPLICATION_REPORT_SECONDS
            if status != "PENDING" or waited >= self.replication_timeout:
                return status, waited
            self.sleep(max(0.0, min(self.replication_poll, self.replication_timeout - waited)))

    def _replication_verdict(self, status: str | None, waited: float, replica: str, replication: dict) -> str:
        role = f"the replication role {replication.get('role_name') or '(see the stack)'}"
        kms = "its KMS grants (kms:Decrypt on this bucket's key, kms:Encrypt on the replica's key)"
        if status in ("COMPLETED", "COMPLETE"):
            return f"COMPLETED after {waited:.0f} s: replicated to {replica}"
        if status == "FAILED":
            return (f"FAILED after {waited:.0f} s: S3 could not replicate to {replica}; likely cause: S3 cannot assume "
                    f"{role}, or the role may not write to the replica bucket or lacks {kms} (S3 does not retry a "
                    "FAILED object)")
        if status == "PENDING":
            promise = ("S3 RTC promises 15 minutes" if replication.get("replication_time_control") else
                       "without S3 RTC, S3 promises no replication time: REPLICATION_TIMEOUT= waits longer")
            return (f"still PENDING after REPLICATION_TIMEOUT={self.replication_timeout:g} s: not replicated to "
                    f"{replica}; likely cause: S3 cannot assume {role}, or the role lacks {kms}, "
                    f"or the replica bucket or its region is unavailable (S3 keeps an object PENDING then); {promise}")
        if status is None:
            return (f"no replication status: no replication rule covers the object, so S3 will not replicate it "
                    f"to {replica} (the bucket's replication configuration is missing or disabled, or leaves out "
                    "SSE-KMS objects)")
        return f"replication status {status} for an object written here (S3 gives REPLICA only to replicas)"

    def _remove_replicated(self, key: str, replication: dict) -> str:
        """Delete the scratch object; returns what became of it and of its replica, for the check's detail.

        The app deletes it as it can: a delete marker, which S3 replicates (the rule replicates delete markers),
        and the noncurrent versions on both sides expire with the buckets' lifecycle. With admin credentials every
        version goes too, the replica's first (deleting a version is not replicated)."""
        try:
            self.client.delete_object(Bucket=self.target.bucket, Key=key)
        except botocore.exceptions.ClientError as error:
            return f"the scratch object could not be deleted ({error_code(error) or 'error'})"
        self.scratch.remove(key)
        lifecycle = ("the scratch object deleted: a delete marker, which S3 replicates; the noncurrent versions on "
                     "both sides expire with the buckets' lifecycle")
        if self.admin is None:
            return lifecycle
        replica = {**self.target.connection, "region": replication["replica_region"]}
        try:
            _delete_every_version(s3_client(replica, self.admin), replication["replica_bucket_name"], key)
            _delete_every_version(s3_client(self.target.connection, self.admin), self.target.bucket, key)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
            code = error_code(error) if isinstance(error, botocore.exceptions.ClientError) else type(error).__name__
            return f"{lifecycle} (the admin could not delete every version: {code or 'error'})"
        return "the scratch object and its replica deleted, every version (admin)"


# --- drift -------------------------------------------------------------------------------------------------------


def declared_settings(stack: str, bucket: str) -> dict:
    """What the stack declares for `bucket`, from its offline plan: the settings `drift_pairs` compares."""
    plan = evaluate_stack(stack)
    by_kind = plan.bucket_declarations(bucket)
    declared: dict[str, Any] = {}
    if "BucketVersioning" in by_kind or "S3BucketVersioning" in by_kind:
        versioning = by_kind.get("BucketVersioning") or by_kind.get("S3BucketVersioning") or {}
        declared["versioning"] = versioning.get("versioningConfiguration", {}).get("status")
    else:
        declared["versioning"] = "off"
    encryption = by_kind.get("BucketServerSideEncryptionConfiguration")
    if encryption:
        rule = encryption["rules"][0]
        declared["encryption"] = rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"]
    block = by_kind.get("BucketPublicAccessBlock")
    if block:
        declared["public access block"] = {k: bool(block.get(k)) for k in (
            "blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets")}
    ownership = by_kind.get("BucketOwnershipControls")
    if ownership:
        declared["ownership"] = ownership["rule"]["objectOwnership"]
    lifecycle = by_kind.get("BucketLifecycleConfiguration") or by_kind.get("IlmPolicy")
    if lifecycle:
        declared["lifecycle rule ids"] = sorted(rule.get("id", "") for rule in lifecycle.get("rules", []))
    policy = by_kind.get("BucketPolicy") or by_kind.get("S3BucketPolicy")
    if policy:
        declared["policy statements"] = sorted(s.get("Sid", "") for s in json.loads(policy["policy"])["Statement"])
    return declared


def answer_or(call: Callable[[], Any], missing: tuple[str, ...], absent: Any = None, unsupported: Any = None) -> Any:
    """S3's answer, or `absent` where it says there is none (`missing` error codes); `unsupported` where the server
    does not implement the API (MinIO leaves out some bucket APIs)."""
    try:
        return call()
    except botocore.exceptions.ClientError as error:
        if error_code(error) in missing:
            return absent
        if error_code(error) in ("NotImplemented", "501"):
            return unsupported
        raise


def _delete_every_version(admin, bucket: str, key: str) -> None:
    """Every version and delete marker of exactly `key` in `bucket`, permanently."""
    listed = admin.list_object_versions(Bucket=bucket, Prefix=key)
    for version in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]:
        if version["Key"] == key:
            admin.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])


def drift_pairs(declared: dict, admin, bucket: str) -> list[tuple[str, Any, Any]]:
    """(setting, declared, live) for each setting the stack declares."""
    pairs: list[tuple[str, Any, Any]] = []
    if "versioning" in declared:
        live = admin.get_bucket_versioning(Bucket=bucket).get("Status") or "off"
        pairs.append(("versioning", declared["versioning"], live))
    if "encryption" in declared:
        rules = answer_or(lambda: admin.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
            "Rules"], ("ServerSideEncryptionConfigurationNotFoundError",), [])
        live = rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] if rules else "none"
        pairs.append(("encryption", declared["encryption"], live))
    if "public access block" in declared:
        block = answer_or(lambda: admin.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
                      ("NoSuchPublicAccessBlockConfiguration",), {})
        pairs.append(("public access block", declared["public access block"], {
            key: bool(block.get(key[0].upper() + key[1:])) for key in declared["public access block"]}))
    if "ownership" in declared:
        rules = answer_or(lambda: admin.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"],
                      ("OwnershipControlsNotFoundError",), [])
        pairs.append(("ownership", declared["ownership"], rules[0]["ObjectOwnership"] if rules else "none"))
    if "lifecycle rule ids" in declared:
        rules = answer_or(lambda: admin.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"],
                      ("NoSuchLifecycleConfiguration",), [])
        pairs.append(("lifecycle rule ids", declared["lifecycle rule ids"], sorted(r.get("ID", "") for r in rules)))
    if "policy statements" in declared:
        policy = answer_or(lambda: admin.get_bucket_policy(Bucket=bucket)["Policy"], ("NoSuchBucketPolicy",), "")
        live = sorted(s.get("Sid", "") for s in json.loads(policy)["Statement"]) if policy else []
        pairs.append(("policy statements", declared["policy statements"], live))
    return pairs


# --- the verb ---------------------------------------------------------------------------------------------------


def verify(target: Target, skip: tuple[str, ...] = (), admin: dict | None = None, declared: dict | None = None,
           progress: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
           replication_timeout: float = REPLICATION_TIMEOUT_SECONDS,
           replication_poll: float = REPLICATION_POLL_SECONDS) -> HealthReport:
    verifier = Verifier(target, progress, skip, admin, declared, replication_timeout, replication_poll)
    checks = verifier.run()
    return HealthReport(target.app, target.bucket, shown_endpoint(verifier.endpoint), checks)


def render_table(report: HealthReport) -> str:
    width = max(len(check.name) for check in report.checks)
    status_width = max(len("status"), *(len(check.status) for check in report.checks))
    lines = [f"{report.overall_status}: app {report.app or '?'}, bucket {report.bucket} at {report.endpoint}",
             f"{'check':<{width}}  {'status':<{status_width}}  {'ms':>6}  detail"]
    lines += [f"{c.name:<{width}}  {c.status:<{status_width}}  {c.milliseconds:>6}  {c.detail}"
              for c in report.checks]
    return "\n".join(lines)
