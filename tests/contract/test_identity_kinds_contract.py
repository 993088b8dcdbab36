"""Both identity kinds on moto's server with IAM enforcement on, set up from the stack's own plan.

- A role identity, assumed through STS as its trust allows, can do what the app may and nothing else.
- Key rotation is driven by the change model in `test_rotation_contract.py`.
- A role app's `.env` carries no key, and boto3's default chain, given the assumed role's credentials the way
  ECS gives them (the container credentials endpoint), reaches the bucket.
"""

from __future__ import annotations

import copy
import http.server
import json
import os
import subprocess
import sys
import threading

import pytest
from botocore.exceptions import ClientError

from cli.offline import evaluate, run_main
from cli.stack_outputs import app_connection
from components import dialects
from tests.contract.moto_server import REGION, MotoServer
from tests.helpers import ROOT, as_config, stack_values

DEPLOYER = "arn:aws:iam::123456789012:user/deployer"
"""moto's default account; the principal the role trusts."""
EXTERNAL_ID = "chat-contract"


def _plan(chat_identity: dict, vista_identity: dict | None = None):
    values = copy.deepcopy(stack_values("prod"))
    values["app-storage:apps"]["chat"]["identity"] = chat_identity
    if vista_identity:
        values["app-storage:apps"]["vista"]["identity"] = vista_identity
    return evaluate("prod", as_config(values), run_main, show_secrets=True)


def _inputs(plan, name: str) -> dict:
    return next(r.inputs for r in plan.resources if r.name == name)


@pytest.fixture(scope="module")
def plan():
    return _plan({"kind": "role", "trust": {"principals": [DEPLOYER], "externalId": EXTERNAL_ID}},
                 {"rotation": {"generation": 2}})


@pytest.fixture(scope="module")
def server(plan):
    with MotoServer() as moto:
        s3, iam = moto.client("s3"), moto.client("iam")
        s3.create_bucket(Bucket="app-storage-prod-chat")
        role_inputs = _inputs(plan, "chat-identity-role")
        role = iam.create_role(RoleName=role_inputs["name"], Path="/app-storage/",
                               AssumeRolePolicyDocument=role_inputs["assumeRolePolicy"])["Role"]
        iam.put_role_policy(RoleName=role_inputs["name"], PolicyName="access",
                            PolicyDocument=_inputs(plan, "chat-identity-role-policy")["policy"])
        iam.create_user(UserName="deployer")
        iam.put_user_policy(UserName="deployer", PolicyName="assume", PolicyDocument=json.dumps({
            # Resource *: moto authorizes STS calls against the resource `*`, not the role's ARN.
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
        deployer_key = iam.create_access_key(UserName="deployer")["AccessKey"]
        moto.role_arn, moto.deployer = role["Arn"], deployer_key
        moto.enforce_iam()
        yield moto


def _assumed(server) -> dict:
    sts = server.client("sts", server.deployer["AccessKeyId"], server.deployer["SecretAccessKey"])
    return sts.assume_role(RoleArn=server.role_arn, RoleSessionName="chat-api", ExternalId=EXTERNAL_ID)["Credentials"]


def _s3_as(server, credentials: dict):
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=server.url, region_name=REGION, config=Config(
        s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials.get("SessionToken"))


def test_the_plan_has_a_role_for_chat_and_two_keys_for_vista(plan):
    assert [r.name for r in plan.resources if r.type == "aws:iam/accessKey:AccessKey" and "vista" in r.name] == [
        "vista-identity-access-key", "vista-identity-access-key-second"]
    assert json.loads(_inputs(plan, "chat-identity-role")["assumeRolePolicy"])["Statement"][0]["Principal"] == {
        "AWS": [DEPLOYER]}


def test_the_assumed_role_does_what_the_app_may_and_nothing_else(server):
    s3 = _s3_as(server, _assumed(server))
    s3.put_object(Bucket="app-storage-prod-chat", Key="uploads/from-role.txt", Body=b"ok")
    assert s3.get_object(Bucket="app-storage-prod-chat", Key="uploads/from-role.txt")["Body"].read() == b"ok"
    for bucket, key in (("app-storage-prod-chat", "elsewhere/x.txt"), ("app-storage-prod-vista", "projects/x.txt")):
        with pytest.raises(ClientError) as refused:
            s3.put_object(Bucket=bucket, Key=key, Body=b"no")
        assert refused.value.response["Error"]["Code"] == "AccessDenied"


class _ContainerCredentials(http.server.BaseHTTPRequestHandler):
    """ECS's container credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI): the task role's credentials."""
    credentials: dict = {}

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        body = json.dumps({"AccessKeyId": self.credentials["AccessKeyId"],
                           "SecretAccessKey": self.credentials["SecretAccessKey"],
                           "Token": self.credentials["SessionToken"],
                           "Expiration": self.credentials["Expiration"].isoformat()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:
        pass


def test_a_role_apps_env_has_no_key_and_the_default_chain_reaches_the_bucket(server, plan, tmp_path):
    connection, dialect = app_connection(plan.outputs, "prod", "chat")
    values = dialects.render_env(dialect or "", connection)
    assert not [name for name in values if "ACCESS_KEY" in name or "SECRET" in name]
    env_file = tmp_path / "chat.env"
    env_file.write_text("".join(f"{name}='{value}'\n" for name, value in values.items()))

    _ContainerCredentials.credentials = _assumed(server)
    endpoint = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ContainerCredentials)
    threading.Thread(target=endpoint.serve_forever, daemon=True).start()
    # The chat service's own way (boto3, region from its .env, no keys): the SDK's default chain does the rest.
    app = (
        f"import boto3, dotenv; env = dotenv.dotenv_values({str(env_file)!r});"
        "s3 = boto3.client('s3', region_name=env['OBJECT_STORAGE_REGION']);"
        "s3.put_object(Bucket=env['OBJECT_STORAGE_BUCKET'], Key='uploads/from-ecs.txt', Body=b'ok');"
        "print(s3.get_object(Bucket=env['OBJECT_STORAGE_BUCKET'], Key='uploads/from-ecs.txt')['Body'].read())"
    )
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    environment.update(AWS_CONTAINER_CREDENTIALS_FULL_URI=f"http://127.0.0.1:{endpoint.server_address[1]}/creds",
                       AWS_ENDPOINT_URL=server.url, AWS_CONFIG_FILE=os.devnull,
                       AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_EC2_METADATA_DISABLED="true")
    try:
        result = subprocess.run([sys.executable, "-c", app], cwd=ROOT, env=environment, capture_output=True,
                                text=True, timeout=60)
    finally:
        endpoint.shutdown()
        endpoint.server_close()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "b'ok'"
