"""AppStorage: everything one application's storage needs, on the stack's backend.

This is the only place that chooses between backends. It exposes the neutral `connection` that the
`.env` dialects are rendered from, and the app's `env` in its own dialect.

The stack program hands each app the settings the gate validated for the whole stack (`AppStorage.of_stack`);
another language's program passes `AppStorageArgs`, read by the same gate before anything is declared. The
Pulumi SDK's component analyzer reads this class's annotations as objects (the package schema): no postponed
annotations in this module.
"""

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

import pulumi

from components import PACKAGE_NAME, dialects, documents, naming
from components.app_storage_args import AppStorageArgs
from components.aws.account import account_id
from components.aws.alerts import AppAlarms, AppAlarmsArgs, app_budget_name
from components.aws.app_identity import AppIdentity, AppIdentityArgs
from components.aws.cdn import Cdn, CdnArgs
from components.aws.log_bucket import LogBucket
from components.aws.replication import REPLICATION_RULE_ID, Replication, ReplicationArgs
from components.aws.secure_bucket import SecureBucket, SecureBucketArgs
from components.connection import StorageConnection, backend_endpoint
from components.minio.minio_bucket import MinioBucket, MinioBucketArgs
from components.minio.minio_identity import MinioIdentity, MinioIdentityArgs
from components.settings.component_inputs import InputProblems, read_component_inputs
from components.settings.gate import current_stack_config
from components.settings.types import AppSettings, StackSettings, Trust

TYPE = f"{PACKAGE_NAME}:index:AppStorage"


def resource_tags(app: AppSettings, stack: StackSettings) -> dict[str, str]:
    return {"app-storage:app": app.name, "app-storage:stack": stack.stack, **stack.tags}


@dataclass(frozen=True)
class StackShared:
    """What a stack declares once and every app uses: its web ACL, its log buckets (region -> the LogBucket, or an
    existing bucket's name), its alert topics. Default: none of them."""
    web_acl_arn: pulumi.Input[str] | None = None
    log_buckets: Mapping[str, LogBucket | str] = field(default_factory=dict)
    alert_topic_arn: pulumi.Input[str] | None = None
    edge_alert_topic_arn: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class ValidatedApp:
    """An app as the gate read it, its stack's settings, and what the stack shares with it."""
    app: AppSettings
    stack: StackSettings
    shared: StackShared = field(default_factory=StackShared)
    warnings: tuple[str, ...] = ()
    """Logged against the component (a stack's program logs the stack's own warnings once)."""


class Connection(TypedDict):
    """How the app reaches its storage, in no app's dialect (the secret key is the separate secretAccessKey)."""
    backend: str
    """aws or minio."""
    region: str
    """The region clients sign for."""
    bucket: str
    """The bucket's name."""
    access_key_id: str | None
    """The current access key (none for a role)."""
    area_prefixes: dict[str, str]
    """Area name -> key prefix."""
    public_areas: list[str]
    """The areas read without signing."""
    presign_seconds: dict[str, int]
    """Private area -> lifetime of its presigned URLs."""
    endpoint: str | None
    """URL with scheme on MinIO; none on AWS."""
    path_style: bool
    """Path-style addressing (MinIO)."""
    use_tls: bool
    """TLS to the endpoint."""
    public_base_url: str | None
    """Where the public areas are read without signing."""
    cdn_domain: str | None
    """The CDN's host, when one serves the public areas."""
    web_identity_role_arn: str | None
    """A role assumed with an OIDC token (AWS_ROLE_ARN)."""


class ReplicaTarget(TypedDict):
    """Where S3 replicates the app's objects."""
    replica_bucket_name: str
    """The replica bucket."""
    replica_region: str
    """Its region."""
    role_name: str
    """The role S3 assumes to replicate."""
    replication_time_control: bool
    """Whether S3 RTC (15 minutes) is on."""


class AppStorage(pulumi.ComponentResource):
    # One line of text (implicit concatenation): the analyzer takes the docstring as the schema's description as is.
    ("One application's object storage on AWS or MinIO: its bucket (encrypted, versioned, private, with its CORS "
     "and lifecycle rules), an identity that may use only the app's areas, and optionally a replica and a CloudFront "
     "distribution for its public areas; outputs the connection and the app's .env values in its dialect.")

    bucket_name: pulumi.Output[str]
    """The bucket's name."""
    bucket_arn: pulumi.Output[str]
    """The bucket's ARN."""
    region: pulumi.Output[str]
    """The bucket's region."""
    identity_name: str
    """The app's IAM or MinIO user, or its IAM role."""
    identity_kind: str
    """user or role."""
    role_arn: pulumi.Output[str | None]
    """The app's role (kind role)."""
    access_key_id: pulumi.Output[str | None]
    """The current access key's id (none for a role)."""
    secret_access_key: pulumi.Output[str | None]
    """The current key's secret (none for a role)."""
    previous_secret_access_key: pulumi.Output[str | None]
    """While a rotation keeps it live, the previous key's secret."""
    access_keys: pulumi.Output[list[dict[str, Any]]]
    """Each live key's generation, access_key_id and whether it is current (no secrets)."""
    connection: Connection
    """How the app reaches its storage (everything but the secret key)."""
    dialect: str
    """The .env naming the app reads."""
    cors_origins: list[str]
    """Every origin the app's CORS rules allow (`*` where one allows any): what `make verify` preflights."""
    replication: ReplicaTarget | None
    """Where S3 replicates the app's objects, or none: what `make verify` checks replication against."""
    env: pulumi.Output[dict[str, str]]
    """The app's `.env` values in its dialect (a secret: it holds the secret key)."""

    def __init__(self, name: str, args: AppStorageArgs, opts: pulumi.ResourceOptions | None = None, *,
                 validated: ValidatedApp | None = None):
        """`args`: the app's keys and the stack keys it needs, read by the settings gate here, before anything is
        declared; bad ones raise `pulumi.InputPropertiesError` naming each input. `validated`: instead, an app the
        stack program validated with its whole stack (`of_stack`), with what the stack shares."""
        if validated is None:
            validated = _validated_from_inputs(name, args)
        app, stack, shared = validated.app, validated.stack, validated.shared
        super().__init__(TYPE, name, None, opts)
        for warning in validated.warnings:
            pulumi.log.warn(warning, resource=self)
        child = pulumi.ResourceOptions(parent=self)
        if stack.backend == "minio":
            storage, identity, delivery = _declare_on_minio(name, app, stack, child)
        else:
            storage, identity, delivery = _declare_on_aws(name, app, stack, child, shared)

        self.bucket_name = storage.bucket_name
        self.bucket_arn = storage.bucket_arn
        self.region = pulumi.Output.from_input(stack.region)
        self.identity_name = identity.identity_name
        self.identity_kind = app.identity.kind
        self.role_arn = identity.role_arn
        self.access_key_id = identity.access_key_id
        self.secret_access_key = identity.secret_access_key
        self.previous_secret_access_key = identity.previous_secret_access_key
        self.access_keys = identity.access_keys
        web_identity = app.identity.trust is not None and app.identity.trust.oidc_provider_arn is not None
        connection = StorageConnection(
            backend=stack.backend,
            region=stack.region,
            bucket=storage.bucket_name,
            access_key_id=identity.access_key_id,
            secret_access_key=identity.secret_access_key,
            area_prefixes=app.area_prefixes,
            public_areas=tuple(area.name for area in app.areas if area.is_public),
            presign_seconds={area.name: area.presign_seconds for area in app.areas if not area.is_public},
            web_identity_role_arn=identity.role_arn if web_identity else None,
            **delivery,
            **backend_endpoint(stack),
        )
        self._live_generations = app.identity.live_generations
        self.dialect = app.dialect
        self.cors_origins = sorted({origin for rule in app.cors for origin in rule.origins})
        self.replication = ReplicaTarget(
            replica_bucket_name=naming.replica_bucket_name(app.bucket_name),
            replica_region=stack.replication.region,
            role_name=naming.replication_role_name(app.bucket_name),
            replication_time_control=stack.replication.replication_time_control,
        ) if stack.backend == "aws" and stack.replication else None  # the names Replication declares
        self.connection = Connection(**connection.without_secrets())  # type: ignore[typeddict-item]
        self.env = pulumi.Output.secret(connection.resolved().apply(
            lambda resolved: dialects.render_env(app.dialect, resolved)))
        self.register_outputs({**self.outputs(), **self.secret_outputs()})

    @classmethod
    def of_stack(cls, app: AppSettings, stack: StackSettings, shared: StackShared | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> "AppStorage":
        """The app as a stack's program declares it: validated with the whole stack (cross-app names included)."""
        return cls(app.name, {}, opts, validated=ValidatedApp(app, stack, shared or StackShared()))

    def outputs(self) -> dict:
        """The app's plain stack output: no secret in it, so a StackReference reads it as plain values."""
        return {
            "bucket_name": self.bucket_name,
            "bucket_arn": self.bucket_arn,
            "region": self.region,
            "identity_name": self.identity_name,
            "identity_kind": self.identity_kind,
            "role_arn": self.role_arn,
            "access_key_id": self.access_key_id,
            "access_keys": self.access_keys,
            "connection": self.connection,
            "dialect": self.dialect,
            "cors_origins": self.cors_origins,
            "replication": self.replication,
        }

    def secret_outputs(self) -> dict:
        """The app's secret values, each exported on its own as `naming.secret_output_name(app, key)`."""
        secrets = {"secret_access_key": self.secret_access_key, "env": self.env}
        if len(self._live_generations) > 1:
            secrets["previous_secret_access_key"] = self.previous_secret_access_key
        return secrets


def _validated_from_inputs(name: str, args: AppStorageArgs) -> ValidatedApp:
    """A component call's inputs through the settings gate; every problem raised at once, as the engine's per-input
    errors, before anything is declared."""
    try:
        read = read_component_inputs(name, args, current_stack_config(), pulumi.get_project(), pulumi.get_stack())
    except InputProblems as problems:
        raise pulumi.InputPropertiesError(str(problems), [
            {"property_path": path, "reason": reason} for path, reason in problems.problems]) from None
    shared = StackShared(log_buckets=read.log_buckets, alert_topic_arn=read.alert_topic_arn,
                         edge_alert_topic_arn=read.edge_alert_topic_arn)
    return ValidatedApp(read.app, read.stack, shared, read.warnings)


def _target(log_buckets: Mapping[str, LogBucket | str], region: str) -> str | None:
    """The name of the stack's log bucket in `region`, where there is one."""
    log_bucket = log_buckets.get(region)
    return log_bucket.target_bucket if isinstance(log_bucket, LogBucket) else log_bucket


def _log_bucket_resource(log_buckets: Mapping[str, LogBucket | str], region: str) -> LogBucket | None:
    """The stack's LogBucket in `region`, which delivery waits for (none for an existing bucket named by a caller)."""
    log_bucket = log_buckets.get(region)
    return log_bucket if isinstance(log_bucket, LogBucket) else None


def _public_prefixes(app: AppSettings) -> tuple[str, ...]:
    return tuple(area.prefix for area in app.areas if area.is_public)


def _declare_on_aws(name: str, app: AppSettings, stack: StackSettings, child: pulumi.ResourceOptions,
                    shared: StackShared):
    """Declare the app on AWS; returns (storage, identity, how public areas are reached: connection fields)."""
    tags = resource_tags(app, stack)
    public_prefixes = _public_prefixes(app)
    log_buckets = shared.log_buckets
    alert_topics = (shared.alert_topic_arn, shared.edge_alert_topic_arn)
    replica_bucket = naming.replica_bucket_name(app.bucket_name)
    cdn = None
    if stack.cdn and public_prefixes:
        # Declared first: the bucket's policy and key name the distribution; the distribution needs only
        # the bucket's (known) name.
        cdn = Cdn(f"{name}-cdn", CdnArgs(
            bucket_name=app.bucket_name,
            region=stack.region,
            public_prefixes=public_prefixes,
            cache_control={area.prefix: area.cache_control for area in app.areas
                           if area.is_public and area.cache_control},
            forward_cors=bool(app.cors),
            price_class=stack.cdn.price_class,
            domain=stack.cdn.domains.get(app.name),
            certificate_arn=stack.cdn.certificate_arn,
            hosted_zone_id=stack.cdn.hosted_zone_id,
            log_bucket=stack.cdn.log_bucket or _target(log_buckets, stack.region),
            log_bucket_resource=None if stack.cdn.log_bucket else _log_bucket_resource(log_buckets, stack.region),
            web_acl_arn=shared.web_acl_arn or stack.cdn.web_acl_arn,
            hsts_preload=stack.cdn.hsts_preload,
            replica=(replica_bucket, stack.replication.region) if stack.replication else None,
            tags=tags,
        ), child)
    bucket_args = SecureBucketArgs(
        bucket_name=app.bucket_name,
        region=stack.region,
        encryption=stack.encryption,
        kms_key_arn=stack.kms_key_arn,
        versioning=stack.versioning,
        noncurrent_version_expiration_days=stack.noncurrent_version_expiration_days,
        abort_incomplete_multipart_upload_days=stack.abort_incomplete_multipart_upload_days,
        lifecycle=app.lifecycle + app.keep.lifecycle,
        area_prefixes=tuple(app.area_prefixes.values()),
        cors=app.cors,
        protect_data=stack.protect_data,
        adopt=app.adopt,
        kept_statements=app.keep.policy_statements,
        force_destroy=stack.force_destroy,
        public_prefixes=public_prefixes,
        cloudfront_distribution_arn=cdn.distribution_arn if cdn else None,
        public_without_cdn=stack.public_without_cdn,
        log_bucket=_target(log_buckets, stack.region),
        log_bucket_resource=_log_bucket_resource(log_buckets, stack.region),
        tags=tags,
    )
    storage = SecureBucket(f"{name}-storage", bucket_args, child)
    if stack.replication:
        Replication(f"{name}-replication", ReplicationArgs(
            source_bucket_name=app.bucket_name,
            source_region=stack.region,
            source_versioning=storage.versioning,
            source_kms_key_arn=storage.kms_key_arn,
            replica=dataclasses.replace(
                bucket_args, bucket_name=replica_bucket,
                # The CDN fails over to the replica: it may read the public prefixes there too.
                region=stack.replication.region, kms_key_arn=None, cors=(), adopt=False, kept_statements=(),
                public_prefixes=public_prefixes if cdn else (),
                cloudfront_distribution_arn=cdn.distribution_arn if cdn else None, public_without_cdn=False,
                log_bucket=_target(log_buckets, stack.replication.region),
                log_bucket_resource=_log_bucket_resource(log_buckets, stack.replication.region)),
            storage_class=stack.replication.storage_class,
            replication_time_control=stack.replication.replication_time_control,
            replication_metrics=alert_topics[0] is not None,  # the replication alarms read them
            tags=tags,
        ), child)
    if alert_topics[0] is not None:
        AppAlarms(f"{name}-alarms", AppAlarmsArgs(
            app_name=app.name, bucket_name=app.bucket_name, region=stack.region, alerts=app.alerts,
            topic_arn=alert_topics[0], edge_topic_arn=alert_topics[1],
            storage_classes=tuple(t.storage_class for rule in app.lifecycle + app.keep.lifecycle
                                  for t in rule.transitions),
            distribution_id=cdn.distribution_id if cdn else None,
            replica_bucket_name=replica_bucket if stack.replication else None,
            replication_rule_id=REPLICATION_RULE_ID,
            replication_time_control=bool(stack.replication and stack.replication.replication_time_control),
            budget_name=app_budget_name(app.bucket_name), tags=tags,
            bucket_resource=storage,
        ), child)
    trust = app.identity.trust
    owner = child.parent  # this AppStorage: its AWS provider is the one the account is looked up with
    assert isinstance(owner, pulumi.Resource)
    identity = AppIdentity(f"{name}-identity", AppIdentityArgs(
        user_name=naming.iam_user_name(app.bucket_name),
        group_name=naming.iam_group_name(app.bucket_name),
        bucket_arn=naming.bucket_arn(app.bucket_name, stack.region),
        prefixes=tuple(app.area_prefixes.values()),
        kms_key_arn=storage.kms_key_arn,
        kept_key_arns=app.keep.kms_key_arns,
        key_generations=app.identity.live_generations,
        role_name=naming.app_role_name(app.bucket_name) if trust else None,
        trust_policy=_trust_policy(trust, owner) if trust else None,
        tags=tags,
    ), child)
    delivery: dict[str, pulumi.Input[str]] = {}
    if cdn:
        delivery = {"public_base_url": cdn.public_base_url, "cdn_domain": cdn.public_domain}
    elif stack.public_without_cdn and public_prefixes:
        delivery = {"public_base_url": f"https://{naming.bucket_regional_domain(app.bucket_name, stack.region)}"}
    return storage, identity, delivery


def _trust_policy(trust: Trust, parent: pulumi.Resource) -> pulumi.Input[str]:
    """The role's trust policy, allowing exactly what the stack configured (`parent`: whose AWS account)."""
    if trust.oidc_provider_arn:
        return json.dumps(documents.oidc_trust_policy(trust.oidc_provider_arn, trust.oidc_audience or "",
                                                      trust.oidc_subjects))
    if trust.principals:
        return json.dumps(documents.principals_trust_policy(trust.principals, trust.external_id))
    service = trust.service or ""
    return account_id(parent).apply(
        lambda account_id: json.dumps(documents.service_trust_policy(service, account_id)))


def _declare_on_minio(name: str, app: AppSettings, stack: StackSettings, child: pulumi.ResourceOptions):
    """Declare the app on MinIO; returns what `_declare_on_aws` does."""
    public_prefixes = _public_prefixes(app)
    storage = MinioBucket(f"{name}-storage", MinioBucketArgs(
        bucket_name=app.bucket_name,
        public_prefixes=public_prefixes,
        kms_key_id=stack.minio.kms_key_id if stack.minio else None,
        versioning=stack.versioning,
        noncurrent_version_expiration_days=stack.noncurrent_version_expiration_days,
        lifecycle=app.lifecycle + app.keep.lifecycle,
        area_prefixes=tuple(app.area_prefixes.values()),
        protect_data=stack.protect_data,
        force_destroy=stack.force_destroy,
        adopt=app.adopt,
        quota_bytes=app.alerts.storage_bytes,  # a hard quota on MinIO; the gate warns about it
    ), child)
    identity = MinioIdentity(f"{name}-identity", MinioIdentityArgs(
        user_name=naming.minio_user_name(app.bucket_name),
        policy_name=naming.minio_policy_name(app.bucket_name),
        bucket_arn=naming.minio_bucket_arn(app.bucket_name),
        prefixes=tuple(app.area_prefixes.values()),
        key_generations=app.identity.live_generations,
    ), child)
    # MinIO serves public areas itself, path-style under the bucket.
    delivery = {"public_base_url": f"{stack.minio.url}/{app.bucket_name}"} if public_prefixes and stack.minio else {}
    return storage, identity, delivery
