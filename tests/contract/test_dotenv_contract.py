"""Contract: each app's `.env`, loaded the way that app loads it, drives its own storage client on a real
S3 server.

For each connection shape a stack gives (AWS with a CDN domain, AWS without one, MinIO), moto's server
gets what the stack declares for EventHorizon: the bucket, the identity and its policy document exactly as
recorded in the offline plan. IAM enforcement is on, so every signed call must be allowed by that policy;
it is relaxed only to fetch presigned URLs (moto answers those with 500 while enforcing).

moto stands in for both AWS and MinIO. On the MinIO shape the endpoint in the `.env` is the server's own
address, so the clients reach it from the `.env` alone. On the AWS shapes the `.env` names no endpoint (the
SDKs find AWS themselves); the test then routes the AWS host to moto, as DNS would: `AWS_ENDPOINT_URL_S3`
for botocore-based clients, a connection pool that sends minio-py's requests (Host header unchanged, so
signatures still hold) to moto.
"""

from __future__ import annotations

import io
import json
import os
import re
import urllib.parse
from pathlib import Path

import boto3
import pytest
import urllib3
from botocore.exceptions import ClientError
from dotenv import dotenv_values

from cli import env_file
from components import dialects
from tests.contract.moto_server import MotoServer
from tests.helpers import CONNECTION_SHAPES

SHAPES = ("aws-cdn", "aws-no-cdn", "minio")
IDENTITY_POLICY = {"aws": "aws:iam/groupPolicy:GroupPolicy", "minio": "minio:index/iamPolicy:IamPolicy"}
PAYLOAD = b"contract payload: the app's own client, configured from its .env\n"


def declared_policy(plan, app: str, backend: str) -> dict:
    [policy] = [r for r in plan.of_type(IDENTITY_POLICY[backend]) if r.name.startswith(f"{app}-identity")]
    return json.loads(policy.inputs["policy"])


class RouteToServer(urllib3.PoolManager):
    """What DNS does for `*.amazonaws.com` in this test: the request goes to moto, its Host header stays."""

    def __init__(self, server_url: str):
        super().__init__()
        self.server_url = server_url

    def urlopen(self, method, url, redirect=True, **kw):
        parts = urllib.parse.urlsplit(url)
        headers = {"Host": parts.netloc, **(kw.pop("headers", None) or {})}
        return super().urlopen(method, f"{self.server_url}{parts.path}?{parts.query}", redirect, headers=headers,
                               **kw)


class Deployment:
    """What a stack declares for one app, created on a moto server, and the app's `.env` for it."""

    def __init__(self, server: MotoServer, shape: str, connection: dict, tmp: Path):
        self.server, self.shape, self.tmp = server, shape, tmp
        self.connection = connection
        self.on_minio = connection["backend"] == "minio"

    def env_file(self, dialect: str) -> Path:
        """The `.env` as `make env` writes it, into a file that already holds the app's other settings."""
        path = self.tmp / f"{dialect}.env"
        path.write_text("SECRET_KEY=django-insecure-contract\nDEBUG=false\n")
        env_file.update_env_file(path, dialect, self.connection, self.shape, "eventhorizon")
        return path

    def fetch(self, url: str) -> bytes:
        """GET a (presigned) URL, IAM relaxed; an AWS host is routed to moto like the SDK calls are."""
        with self.server.iam_relaxed():
            response = RouteToServer(self.server.url).request("GET", url, retries=False)
        assert response.status == 200, (url, response.status, response.data[:300])
        return response.data


@pytest.fixture(scope="module", params=SHAPES)
def deployment(request, shown_plans, connection_shapes, tmp_path_factory):
    shape = request.param
    plan_name, app = CONNECTION_SHAPES[shape]
    connection = dict(connection_shapes[shape])
    with MotoServer() as server:
        on_aws = connection["backend"] == "aws"
        # As each backend's identity is declared: on AWS the user is named like the bucket and gets its
        # policy through a group; on MinIO the user's name is the access key.
        key_id, secret = server.create_app(
            connection["bucket"], connection["bucket"] if on_aws else connection["access_key_id"],
            declared_policy(shown_plans[plan_name], app, connection["backend"]), through_group=on_aws)
        # The provider's real key instead of the plan's mock one; on MinIO, the server's real address.
        connection.update(access_key_id=key_id, secret_access_key=secret)
        if not on_aws:
            connection["endpoint"] = f"http://localhost:{server.port}"
            connection["public_base_url"] = f"{connection['endpoint']}/{connection['bucket']}"
        server.enforce_iam()
        yield Deployment(server, shape, connection, tmp_path_factory.mktemp(shape))


@pytest.fixture
def process_env(monkeypatch, deployment):
    """A fresh process's environment: no AWS settings but what a test loads; AWS hosts routed to moto."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "S3_", "OBJECT_STORAGE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # it keeps the first credentials it found
    if not deployment.on_minio:
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", deployment.server.url)
    return monkeypatch


def presign_expiry(url: str) -> int:
    return int(urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["X-Amz-Expires"][0])


# --- EventHorizon: django-storages through Django settings --------------------------------------------

def eventhorizon_settings(env: dict) -> dict:
    """The storage part of EventHorizon's settings.py: django-storages' settings, read from the `.env`."""
    return {
        "AWS_ACCESS_KEY_ID": env["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": env["AWS_SECRET_ACCESS_KEY"],
        "AWS_STORAGE_BUCKET_NAME": env["AWS_STORAGE_BUCKET_NAME"],
        "AWS_S3_REGION_NAME": env["AWS_S3_REGION_NAME"],
        "AWS_S3_ENDPOINT_URL": env.get("AWS_S3_ENDPOINT_URL"),
        "AWS_S3_USE_SSL": env.get("AWS_S3_USE_SSL", "True").lower() == "true",
        "AWS_S3_CUSTOM_DOMAIN": env.get("AWS_S3_CUSTOM_DOMAIN"),
        "AWS_S3_ADDRESSING_STYLE": env.get("AWS_S3_ADDRESSING_STYLE"),
        "AWS_QUERYSTRING_EXPIRE": int(env.get("AWS_QUERYSTRING_EXPIRE", "3600")),
        "AWS_S3_SIGNATURE_VERSION": env.get("AWS_S3_SIGNATURE_VERSION"),
        "AWS_DEFAULT_ACL": None,  # the buckets enforce bucket-owner ownership: ACLs are off
    }


@pytest.fixture(scope="module")
def django_configured():
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_TZ=True, INSTALLED_APPS=[])
        django.setup()


def test_django_storages_saves_checks_serves_and_deletes(deployment, process_env, django_configured):
    from django.core.files.base import ContentFile
    from django.test import override_settings
    from storages.backends.s3 import S3Storage

    env = dotenv_values(deployment.env_file("django"))
    assert env["STORAGE_BACKEND"] == ("minio" if deployment.on_minio else "s3")
    with override_settings(**eventhorizon_settings(env)):
        # EventHorizon's S3PrivateStorage: signed URLs, never the CDN.
        private = S3Storage(location=env["AWS_PRIVATE_LOCATION"], custom_domain=None, querystring_auth=True,
                            file_overwrite=False)
        name = private.save("invoices/contract.txt", ContentFile(PAYLOAD))
        assert private.exists(name)
        url = private.url(name)
        assert f"/{env['AWS_PRIVATE_LOCATION']}/invoices/" in url
        assert presign_expiry(url) == int(env["AWS_QUERYSTRING_EXPIRE"])
        assert deployment.fetch(url) == PAYLOAD
        private.delete(name)
        assert not private.exists(name)

        # EventHorizon's S3MediaStorage: public; through the CDN where one serves it.
        media = S3Storage(location=env["AWS_MEDIA_LOCATION"], querystring_auth=not env.get("AWS_S3_CUSTOM_DOMAIN"))
        name = media.save("avatars/contract.txt", ContentFile(PAYLOAD))
        assert media.exists(name)
        if env.get("AWS_S3_CUSTOM_DOMAIN"):
            assert media.url(name) == f"https://{deployment.connection['cdn_domain']}/media/{name}"
        else:
            assert deployment.fetch(media.url(name)) == PAYLOAD
        media.delete(name)
        assert not media.exists(name)


# --- VISTA: minio-py from S3_* --------------------------------------------------------------------------

def test_minio_py_puts_gets_and_presigns(deployment, process_env):
    from minio import Minio

    env = dotenv_values(deployment.env_file("s3"))
    client = Minio(env["S3_ENDPOINT"], access_key=env["S3_ACCESS_KEY"], secret_key=env["S3_SECRET_KEY"],
                   secure=env["S3_USE_SSL"] == "true", region=env["S3_REGION"],
                   http_client=None if deployment.on_minio else RouteToServer(deployment.server.url))
    key = f"{deployment.connection['area_prefixes']['private']}projects/contract.bin"
    client.put_object(env["S3_BUCKET"], key, io.BytesIO(PAYLOAD), len(PAYLOAD))
    response = client.get_object(env["S3_BUCKET"], key)
    try:
        assert response.read() == PAYLOAD
    finally:
        response.close()
        response.release_conn()
    url = client.presigned_get_object(env["S3_BUCKET"], key)
    assert url.startswith("http://localhost:" if deployment.on_minio else "https://")
    assert deployment.fetch(url) == PAYLOAD
    client.remove_object(env["S3_BUCKET"], key)


# --- Chat system: boto3 from OBJECT_STORAGE_*, as its StorageService builds the client ------------------

def chat_storage_client(env: dict, botocore_config=None):
    """StorageService._init_s3_client: keys always; the endpoint when set, otherwise the region.
    `botocore_config`: the Config that the one-line SigV4 fix adds."""
    assert env["OBJECT_STORAGE_ENABLED"] == "true" and env["OBJECT_STORAGE_PROVIDER"] in ("s3", "minio")
    config = {"aws_access_key_id": env["OBJECT_STORAGE_ACCESS_KEY"],
              "aws_secret_access_key": env["OBJECT_STORAGE_SECRET_KEY"], "config": botocore_config}
    if env.get("OBJECT_STORAGE_ENDPOINT"):
        config["endpoint_url"] = env["OBJECT_STORAGE_ENDPOINT"]
    else:
        config["region_name"] = env.get("OBJECT_STORAGE_REGION") or "us-east-1"
    return boto3.client("s3", **config)


def test_chat_storage_service_uploads_reads_presigns_and_deletes(deployment, process_env):
    env = dotenv_values(deployment.env_file("object-storage"))
    client, bucket = chat_storage_client(env), env["OBJECT_STORAGE_BUCKET"]
    key = f"{deployment.connection['area_prefixes']['private']}uploads/contract.txt"
    client.upload_fileobj(io.BytesIO(PAYLOAD), bucket, key, ExtraArgs={"ContentType": "text/plain"})
    assert client.get_object(Bucket=bucket, Key=key)["Body"].read() == PAYLOAD
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=600)
    assert deployment.fetch(url) == PAYLOAD
    client.delete_object(Bucket=bucket, Key=key)


# --- Any AWS SDK: boto3 from the aws-sdk variables alone -------------------------------------------------

def test_boto3_from_the_environment_alone(deployment, process_env):
    env = dotenv_values(deployment.env_file("aws-sdk"))
    for name, value in env.items():
        process_env.setenv(name, value)
    client = boto3.client("s3")  # no arguments: keys, region and endpoint come from the environment
    assert client.meta.region_name == deployment.connection["region"]
    bucket = os.environ["AWS_S3_BUCKET"]
    prefix = deployment.connection["area_prefixes"]["private"]
    client.put_object(Bucket=bucket, Key=f"{prefix}sdk.txt", Body=PAYLOAD)
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    assert [item["Key"] for item in listed["Contents"]] == [f"{prefix}sdk.txt"]
    assert client.get_object(Bucket=bucket, Key=f"{prefix}sdk.txt")["Body"].read() == PAYLOAD
    client.delete_object(Bucket=bucket, Key=f"{prefix}sdk.txt")


def test_the_same_environment_is_refused_outside_the_apps_areas(deployment, process_env):
    """IAM is enforced: the round trips above passed because the declared policy allows them."""
    for name, value in dotenv_values(deployment.env_file("aws-sdk")).items():
        process_env.setenv(name, value)
    client = boto3.client("s3")
    with pytest.raises(ClientError) as refused:
        client.put_object(Bucket=os.environ["AWS_S3_BUCKET"], Key="outside-the-areas/x.txt", Body=PAYLOAD)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as refused:
        client.create_bucket(Bucket="another-apps-bucket")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


# --- Laravel: the s3 disk of config/filesystems.php -------------------------------------------------------

# What Laravel's default config/filesystems.php reads: the default disk, and the s3 disk's options, each
# from env(NAME, default).
LARAVEL_DEFAULT_DISK = ("FILESYSTEM_DISK", "local")
LARAVEL_S3_DISK = {
    "key": ("AWS_ACCESS_KEY_ID", None),
    "secret": ("AWS_SECRET_ACCESS_KEY", None),
    "region": ("AWS_DEFAULT_REGION", None),
    "bucket": ("AWS_BUCKET", None),
    "url": ("AWS_URL", None),
    "endpoint": ("AWS_ENDPOINT", None),
    "use_path_style_endpoint": ("AWS_USE_PATH_STYLE_ENDPOINT", False),
}


def laravel_env(env: dict, name: str, default):
    """Laravel's env(): the dotenv string, with true/false/null/empty (optionally in parentheses) converted."""
    if name not in env:
        return default
    value = env[name]
    words = {"true": True, "false": False, "null": None, "empty": ""}
    bare = re.sub(r"^\((.*)\)$", r"\1", value.lower())
    return words[bare] if bare in words else value


def test_laravel_s3_disk_reads_every_variable_and_works(deployment, process_env):
    env = dotenv_values(deployment.env_file("laravel"))
    laravel_keys = {name for name, _ in LARAVEL_S3_DISK.values()} | {LARAVEL_DEFAULT_DISK[0]}
    written = set(dialects.render_env("laravel", deployment.connection))
    assert written <= laravel_keys, written - laravel_keys
    assert laravel_env(env, *LARAVEL_DEFAULT_DISK) == "s3"
    disk = {option: laravel_env(env, name, default) for option, (name, default) in LARAVEL_S3_DISK.items()}
    connection = deployment.connection
    assert disk["key"] == connection["access_key_id"] and disk["secret"] == connection["secret_access_key"]
    assert disk["region"] == connection["region"] and disk["bucket"] == connection["bucket"]
    assert disk["endpoint"] == connection["endpoint"]  # None on AWS: the SDK's regional endpoint
    assert disk["use_path_style_endpoint"] is deployment.on_minio
    assert disk["url"] == connection["public_base_url"]  # Storage::url($path) = url + '/' + path

    # The disk's options, given to the AWS SDK as Flysystem's adapter gives them.
    client = boto3.client("s3", aws_access_key_id=disk["key"], aws_secret_access_key=disk["secret"],
                          region_name=disk["region"], endpoint_url=disk["endpoint"],
                          config=boto3.session.Config(s3={"addressing_style": "path"})
                          if disk["use_path_style_endpoint"] else None)
    key = f"{connection['area_prefixes']['media']}laravel.txt"
    client.put_object(Bucket=disk["bucket"], Key=key, Body=PAYLOAD)
    assert client.get_object(Bucket=disk["bucket"], Key=key)["Body"].read() == PAYLOAD
    client.delete_object(Bucket=disk["bucket"], Key=key)


def test_every_env_file_is_private(deployment):
    for dialect in dialects.DIALECTS:
        path = deployment.env_file(dialect)
        assert (path.stat().st_mode & 0o777) == 0o600
        assert dotenv_values(path)["SECRET_KEY"] == "django-insecure-contract"  # the app's own line survived


# --- How each dialect's client signs presigned URLs (AWS refuses SigV2 for SSE-KMS and new buckets) --------

def signature_version(url: str) -> str:
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    if query.get("X-Amz-Algorithm") == ["AWS4-HMAC-SHA256"]:
        return "sigv4"
    assert "AWSAccessKeyId" in query and "Signature" in query, url
    return "sigv2"


def presigned_url(dialect: str, deployment, process_env, fixed: bool = False) -> str:
    """A presigned GET from the client the dialect's app builds from its `.env`; `fixed`: with the
    documented one-line fix (`dialects.PRESIGN_SIGNING[dialect].fix`) applied."""
    from botocore.config import Config

    env = dotenv_values(deployment.env_file(dialect))
    key = f"{deployment.connection['area_prefixes']['private']}signed.txt"
    sigv4 = Config(signature_version="s3v4") if fixed else None
    if dialect == "django":
        from django.test import override_settings
        from storages.backends.s3 import S3Storage
        with override_settings(**eventhorizon_settings(env)):
            return S3Storage(custom_domain=None, querystring_auth=True).url(key)
    if dialect == "s3":
        from minio import Minio
        client = Minio(env["S3_ENDPOINT"], access_key=env["S3_ACCESS_KEY"], secret_key=env["S3_SECRET_KEY"],
                       secure=env["S3_USE_SSL"] == "true", region=env["S3_REGION"])
        return client.presigned_get_object(env["S3_BUCKET"], key)
    if dialect == "object-storage":
        client = chat_storage_client(env, sigv4)
        return client.generate_presigned_url("get_object", Params={"Bucket": env["OBJECT_STORAGE_BUCKET"],
                                                                   "Key": key})
    for name, value in env.items():
        process_env.setenv(name, value)
    client = boto3.client("s3", config=sigv4)
    return client.generate_presigned_url("get_object", Params={"Bucket": env["AWS_S3_BUCKET"], "Key": key})


@pytest.mark.parametrize("dialect", list(dialects.DIALECTS))
def test_each_dialect_signs_presigned_urls_as_its_table_says(dialect, deployment, process_env, django_configured):
    """botocore presigns with SigV2 unless configured (client.py `_default_s3_presign_to_sigv2`,
    boto/boto3#2680): the django dialect says s3v4 in its .env; boto3 from object-storage or aws-sdk cannot,
    and the documented fix makes it SigV4. minio-py always signs with SigV4."""
    signing = dialects.PRESIGN_SIGNING[dialect]
    if dialect == "laravel":
        pytest.skip("the AWS SDK for PHP is not installed here; its S3 presigned URLs are SigV4 by design")
    assert signature_version(presigned_url(dialect, deployment, process_env)) == signing.signs_with
    if signing.fix:
        assert signature_version(presigned_url(dialect, deployment, process_env, fixed=True)) == "sigv4"
        note = dialects.presign_note(dialect, deployment.connection)
        assert (note is not None and "signature_version=\"s3v4\"" in note) == (not deployment.on_minio)
