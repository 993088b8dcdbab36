"""The shipped dev stack on MinIO, evaluated offline as `make plan STACK=dev` does, and its twin prod."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from cli.offline import MASK
from components import documents
from components.settings.gate import parse_settings
from components.settings.schema import NAMESPACE
from tests.helpers import ROOT, as_config, policy_document, stack_values

APPS = ("eventhorizon", "vista", "chat")
PUBLIC_PREFIXES = {"eventhorizon": ["media/", "static/"], "vista": ["thumbnails/"], "chat": []}
PER_APP_TYPES = sorted([
    "app-storage:index:AppStorage", "app-storage:index:MinioBucket", "app-storage:index:MinioIdentity",
    "minio:index/s3Bucket:S3Bucket", "minio:index/s3BucketVersioning:S3BucketVersioning",
    "minio:index/ilmPolicy:IlmPolicy", "minio:index/iamUser:IamUser", "minio:index/iamPolicy:IamPolicy",
    "minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment",
])


def resources_of(plan, app):
    return [r for r in plan.resources if r.name == app or r.name.startswith(f"{app}-")]


def one(plan, app, token):
    [match] = [r for r in resources_of(plan, app) if r.type == token]
    return match


@pytest.mark.parametrize("app", APPS)
def test_each_app_has_the_minio_resource_set(dev_plan, app):
    types = sorted(r.type for r in resources_of(dev_plan, app))
    expected = PER_APP_TYPES + (["minio:index/s3BucketPolicy:S3BucketPolicy"] if PUBLIC_PREFIXES[app] else [])
    assert types == sorted(expected)
    assert not any(r.type.startswith("aws:") for r in dev_plan.resources)


@pytest.mark.parametrize("app", ["eventhorizon", "vista"])
def test_public_areas_are_anonymous_get_object_on_their_prefixes_only(dev_plan, app):
    [statement] = policy_document(one(dev_plan, app, "minio:index/s3BucketPolicy:S3BucketPolicy"))["Statement"]
    bucket = f"arn:aws:s3:::app-storage-dev-{app}"
    assert statement["Principal"] == {"AWS": ["*"]} and statement["Action"] == ["s3:GetObject"]
    assert statement["Resource"] == [f"{bucket}/{prefix}*" for prefix in PUBLIC_PREFIXES[app]]


@pytest.mark.parametrize("app", APPS)
def test_identity_policy_is_scoped_to_the_app_bucket_and_areas(dev_plan, app):
    bucket = f"arn:aws:s3:::app-storage-dev-{app}"
    document = policy_document(one(dev_plan, app, "minio:index/iamPolicy:IamPolicy"))
    settings = parse_settings(as_config(stack_values("dev")), "app-storage", "dev")
    [app_settings] = [a for a in settings.apps if a.name == app]
    assert document == documents.app_access_policy(bucket, app_settings.area_prefixes.values())
    for statement in document["Statement"]:
        assert all(r == bucket or r.startswith(f"{bucket}/") for r in statement["Resource"])


def test_dev_data_is_disposable(dev_plan):
    for bucket in dev_plan.of_type("minio:index/s3Bucket:S3Bucket"):
        assert bucket.inputs["forceDestroy"] is True
        assert not bucket.options["protect"] and not bucket.options["retainOnDelete"]


def test_connections_point_at_local_minio_path_style_without_tls(dev_plan):
    for app in APPS:
        connection = dev_plan.outputs[app]["connection"]
        assert connection["endpoint"] == "http://localhost:9000"
        assert connection["path_style"] is True and connection["use_tls"] is False
        assert connection["region"] == "us-east-1"
        assert connection["access_key_id"] == f"app-storage-dev-{app}"
        assert "secret_access_key" not in connection and dev_plan.outputs[f"{app}_secret_access_key"] == MASK
        expected_base = f"http://localhost:9000/app-storage-dev-{app}" if PUBLIC_PREFIXES[app] else None
        assert connection["public_base_url"] == expected_base


# terraform-provider-minio v1.20.1 (bridged by pulumi-minio 0.17.1): the fields each resource type we declare
# marks `Computed: true` without Optional/Required (minio/resource_minio_*.go at tag v1.20.1). A value for
# one of them is refused by the provider.
MINIO_COMPUTED_ONLY_INPUTS = {
    "minio:index/s3Bucket:S3Bucket": {"arn", "bucketDomainName"},
    "minio:index/iamUser:IamUser": {"status"},
}
MINIO_COMPUTED_ONLY_NESTED = {"minio:index/ilmPolicy:IlmPolicy": ("rules", {"status"})}


def test_no_dev_resource_sets_a_field_the_minio_provider_computes(dev_plan):
    """terraform-provider-minio v1.20.1 schemas: S3Bucket arn/bucket_domain_name, IamUser status and
    IlmPolicy rule.status are computed-only (settable from v3 on, aminueza/terraform-provider-minio#609)."""
    checked = 0
    for resource in dev_plan.resources:
        assert not MINIO_COMPUTED_ONLY_INPUTS.get(resource.type, set()) & set(resource.inputs), resource.name
        if resource.type in MINIO_COMPUTED_ONLY_NESTED:
            field, computed = MINIO_COMPUTED_ONLY_NESTED[resource.type]
            for item in resource.inputs[field]:
                assert not computed & set(item), resource.name
                checked += 1
    assert checked >= 3


def test_no_minio_user_has_force_destroy(dev_plan):
    """aminueza/terraform-provider-minio#582: force_destroy deletes the user on every update in v1.20.1."""
    users = dev_plan.of_type("minio:index/iamUser:IamUser")
    assert len(users) == len(APPS) and all("forceDestroy" not in user.inputs for user in users)


def test_versioned_dev_buckets_expire_delete_markers(dev_plan):
    for policy in dev_plan.of_type("minio:index/ilmPolicy:IlmPolicy"):
        [rule] = [r for r in policy.inputs["rules"] if r["id"] == "expire-noncurrent-versions"]
        assert rule["expiration"] == "DeleteMarker"


def test_warnings_name_each_skipped_feature_and_its_apps(dev_plan):
    skipped = [w for w in dev_plan.warnings if " skipped on minio for " in w]
    by_feature = {w.split(" skipped on minio for ")[0]: w for w in skipped}
    assert set(by_feature) == {"CORS rules", "lifecycle tier transitions",
                               "aborting incomplete multipart uploads", "default encryption"}
    [quota, cache_control] = [w for w in dev_plan.warnings if w not in skipped]
    assert quota.startswith("storageBytes is the bucket's hard quota on minio for apps eventhorizon")
    assert cache_control.startswith("cacheControl of areas eventhorizon.media, eventhorizon.static is not applied")
    assert "AWS_S3_OBJECT_PARAMETERS" in cache_control
    assert "app eventhorizon:" in by_feature["CORS rules"]
    assert "apps eventhorizon, vista, chat:" in by_feature["lifecycle tier transitions"]


def test_dev_and_prod_share_their_app_definitions_and_differ_only_in_backend_settings():
    dev, prod = stack_values("dev"), stack_values("prod")
    assert dev[f"{NAMESPACE}:apps"] == prod[f"{NAMESPACE}:apps"]
    dev_settings = parse_settings(as_config(dev), "app-storage", "dev")
    prod_settings = parse_settings(as_config(prod), "app-storage", "prod")

    def apps_without_bucket_names(settings):
        # The apps' alerts come from the stack's `alerts` (prod sets them; its thresholds are every app's).
        return [dataclasses.replace(app, bucket_name="", alerts=dataclasses.replace(
            app.alerts, storage_bytes=None, requests_per_5min=None, emails=(), monthly_budget_usd=None))
            for app in settings.apps]

    # Bucket names differ only by the stack in their derived prefix.
    assert apps_without_bucket_names(dev_settings) == apps_without_bucket_names(prod_settings)
    assert [a.bucket_name for a in dev_settings.apps] == [f"app-storage-dev-{a}" for a in APPS]
    differing = {f.name for f in dataclasses.fields(dev_settings)
                 if getattr(dev_settings, f.name) != getattr(prod_settings, f.name)}
    assert differing == {"stack", "bucket_prefix", "apps", "warnings",  # follow from the stack's name and backend
                         "backend", "minio", "encryption", "protect_data", "force_destroy", "replication", "cdn",
                         "alerts"}


def test_compose_starts_minio_where_the_dev_stack_looks_with_the_providers_credentials():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    minio = compose["services"]["minio"]
    server = stack_values("dev")["minio:minioServer"]
    port = server.rsplit(":", 1)[1]
    assert f"127.0.0.1:{port}:9000" in minio["ports"] and "127.0.0.1:9001:9001" in minio["ports"]
    assert minio["command"][-2:] == ["--console-address", ":9001"]
    assert minio["image"].startswith("minio/minio:RELEASE.")  # a pinned release, not `latest`
    assert minio["environment"]["MINIO_ROOT_USER"].startswith("${MINIO_USER:?")
    assert minio["environment"]["MINIO_ROOT_PASSWORD"].startswith("${MINIO_PASSWORD:?")
