"""moto's server (S3 and IAM) in a child process on 127.0.0.1 and a free port, for contract tests.

A child process, not a thread: IAM enforcement is server-wide state, and each test module gets a
server of its own that cannot leak it into the test process or another module.
Run as a script it starts the server, prints the port, and serves until its stdin closes.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

START_TIMEOUT_SECONDS = 30
TEST_CREDENTIALS = {"aws_access_key_id": "admin-testing", "aws_secret_access_key": "admin-testing"}
REGION = "us-east-1"


class MotoServer:
    """`with MotoServer() as server:` - `server.url`, `server.port`, `server.client(...)`, `server.create_app(...)`,
    `server.enforce_iam()`, `with server.iam_relaxed():`."""

    def __init__(self, env: dict | None = None):
        self.env = env or {}
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.enforcing = False

    def __enter__(self) -> MotoServer:
        self.process = subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True, env={**os.environ, **self.env})
        port = self.process.stdout.readline().strip()
        if not port.isdigit():
            self.__exit__()
            raise RuntimeError(f"moto server did not start (printed {port!r})")
        self.port = int(port)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *_exc) -> None:
        if self.process is None:
            return
        self.process.stdin.close()  # the server's signal to stop
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self.process = None

    def client(self, service: str, access_key_id: str | None = None, secret_access_key: str | None = None,
               path_style: bool = True):
        import boto3
        from botocore.config import Config

        credentials = TEST_CREDENTIALS if access_key_id is None else {
            "aws_access_key_id": access_key_id, "aws_secret_access_key": secret_access_key}
        config = Config(s3={"addressing_style": "path" if path_style else "auto"}, retries={"max_attempts": 1})
        return boto3.client(service, endpoint_url=self.url, region_name=REGION, config=config, **credentials)

    def create_app(self, bucket: str, user: str, policy: dict, through_group: bool = False) -> tuple[str, str]:
        """What a stack declares for one app: its bucket, its user holding `policy` (a named policy attached
        to the user as on MinIO, or a group's inline policy as AppIdentity does on AWS), and an access key.
        Returns (access key id, secret)."""
        s3, iam = self.client("s3"), self.client("iam")
        s3.create_bucket(Bucket=bucket)
        iam.create_user(UserName=user)
        document = json.dumps(policy)
        if through_group:
            iam.create_group(GroupName=user)
            iam.put_group_policy(GroupName=user, PolicyName="access", PolicyDocument=document)
            iam.add_user_to_group(GroupName=user, UserName=user)
        else:
            arn = iam.create_policy(PolicyName=f"{user}-access", PolicyDocument=document)["Policy"]["Arn"]
            iam.attach_user_policy(UserName=user, PolicyArn=arn)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]

    def enforce_iam(self) -> None:
        """From now on every signed request is checked against the caller's IAM policies."""
        self._requests_before_enforcing(b"0")
        self.enforcing = True

    @contextlib.contextmanager
    def iam_relaxed(self) -> Iterator[None]:
        """IAM off for the block: while enforcing, moto answers presigned and unsigned requests with 500."""
        self._requests_before_enforcing(b"inf")
        self.enforcing = False
        try:
            yield
        finally:
            self.enforce_iam()

    def _requests_before_enforcing(self, count: bytes) -> None:
        # text/plain: as a form post, the body would be parsed away before moto reads it.
        request = urllib.request.Request(f"{self.url}/moto-api/reset-auth", data=count, method="POST",
                                         headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status != 200:
                raise RuntimeError(f"moto refused to reset IAM enforcement: HTTP {response.status}")


class Relay:
    """A pass-through HTTP server in front of 127.0.0.1:`upstream_port`: every request is forwarded as it came and
    every answer returned as the upstream gave it, plus `extra_headers`. Subclasses change `exchange` (how a
    request reaches the upstream) or `extra_headers` (what the answer gains).

    `with Relay(port) as relay:` - `relay.url`."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.url = ""

    def exchange(self, command: str, path: str, headers: dict, body: bytes) -> tuple[int, list, bytes]:
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        try:
            connection.request(command, path, body=body or None, headers=headers)
            answer = connection.getresponse()
            return answer.status, answer.getheaders(), answer.read()
        finally:
            connection.close()

    def extra_headers(self, command: str, path: str, status: int) -> dict[str, str]:
        return {}

    def __enter__(self):
        import http.server
        import threading

        relay = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # answers botocore's `Expect: 100-continue` at once, as S3 does

            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {key: value for key, value in self.headers.items()
                           if key.lower() not in ("connection", "expect")}
                status, answer_headers, payload = relay.exchange(self.command, self.path, headers, body)
                self.send_response(status)
                length = str(len(payload))
                for key, value in answer_headers:
                    if key.lower() == "content-length" and self.command == "HEAD":
                        length = value  # a HEAD answer carries the object's length, not its own
                    elif key.lower() not in ("connection", "transfer-encoding", "server", "date", "content-length"):
                        self.send_header(key, value)
                for key, value in relay.extra_headers(self.command, self.path, status).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", length)
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_OPTIONS = _relay  # noqa: N815

            def log_message(self, *_args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class UnsignedRelay(Relay):
    """A relay in front of moto's server for clients that mix signed and unsigned requests (a health check, a
    browser): signed requests reach moto while it enforces IAM; an unsigned or presigned one reaches it with IAM
    relaxed for that one request, since moto answers those with 500 while enforcing. Every answer is moto's.

    `with UnsignedRelay(server) as relay:` - `relay.url`; requests pass one at a time."""

    def __init__(self, server: MotoServer):
        import threading

        super().__init__(server.port)
        self.server = server
        self.lock = threading.Lock()

    def exchange(self, command: str, path: str, headers: dict, body: bytes) -> tuple[int, list, bytes]:
        unsigned = "Authorization" not in headers  # anonymous, or signed in the query (presigned)
        with self.lock:
            relaxed = unsigned and self.server.enforcing
            if relaxed:
                self.server._requests_before_enforcing(b"inf")
            try:
                return super().exchange(command, path, headers, body)
            finally:
                if relaxed:
                    self.server._requests_before_enforcing(b"0")


def _serve() -> None:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    print(server.get_host_and_port()[1], flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    _serve()
