"""AppStorage: everything one application's storage needs, on the stack's backend.

This is the only place that chooses between backends. It exposes the neutral `connection` that the
`.env` dialects are rendered from.
"""

from __future__ import annotations

from typing import Optional

import pulumi

from components import naming
from components.aws.app_identity import AppIdentity, AppIdentityArgs
from components.aws.secure_bucket import SecureBucket, SecureBucketArgs
from components.connection import StorageConnection, backend_endpoint
from components.minio.minio_bucket import MinioBucket, MinioBucketArgs
from components.minio.minio_identity import MinioIdentity, MinioIdentityArgs
from components.settings import AppSettings, StackSettings


def resource_tags(app: AppSettings, stack: StackSettings) -> dict[str, str]:
    return {"app-storage:app": app.name, "app-storage:stack": stack.stack, **stack.tags}


class AppStorage(pulumi.ComponentResource):
    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    region: pulumi.Output[str]
    identity_name: pulumi.Output[str]
    access_key_id: pulumi.Output[str]
    secret_access_key: pulumi.Output[str]
    connection: StorageConnection

    def __init__(self, name: str, app: AppSettings, stack: StackSettings,
                 opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("app-storage:index:AppStorage", name, None, opts)
        declare = _declare_on_minio if stack.backend == "minio" else _declare_on_aws
        storage, identity = declare(name, app, stack, pulumi.ResourceOptions(parent=self))

        self.bucket_name = storage.bucket_name
        self.bucket_arn = storage.bucket_arn
        self.region = pulumi.Output.from_input(stack.region)
        self.identity_name = identity.user_name
        self.access_key_id = identity.access_key_id
        self.secret_access_key = identity.secret_access_key
        self.connection = StorageConnection(
            region=stack.region,
            bucket=storage.bucket_name,
            access_key_id=identity.access_key_id,
            secret_access_key=identity.secret_access_key,
            area_prefixes=app.area_prefixes,
            public_areas=tuple(area.name for area in app.areas if area.is_public),
            presign_seconds={area.name: area.presign_seconds for area in app.areas if not area.is_public},
            **backend_endpoint(app, stack),
        )
        self.register_outputs(self.outputs())

    def outputs(self) -> dict:
        """The app's stack outputs; the same keys as the typed attributes."""
        return {
            "bucket_name": self.bucket_name,
            "bucket_arn": self.bucket_arn,
            "region": self.region,
            "identity_name": self.identity_name,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "connection": self.connection.as_output(),
        }


def _declare_on_aws(name: str, app: AppSettings, stack: StackSettings,
                    child: pulumi.ResourceOptions) -> tuple[SecureBucket, AppIdentity]:
    tags = resource_tags(app, stack)
    storage = SecureBucket(f"{name}-storage", SecureBucketArgs(
        bucket_name=app.bucket_name,
        region=stack.region,
        encryption=stack.encryption,
        kms_key_arn=stack.kms_key_arn,
        versioning=stack.versioning,
        noncurrent_version_expiration_days=stack.noncurrent_version_expiration_days,
        abort_incomplete_multipart_upload_days=stack.abort_incomplete_multipart_upload_days,
        lifecycle=app.lifecycle,
        cors=app.cors,
        protect_data=stack.protect_data,
        force_destroy=stack.force_destroy,
        tags=tags,
    ), child)
    identity = AppIdentity(f"{name}-identity", AppIdentityArgs(
        user_name=app.bucket_name,
        bucket_arn=naming.bucket_arn(app.bucket_name, stack.region),
        prefixes=tuple(app.area_prefixes.values()),
        kms_key_arn=storage.kms_key_arn,
        tags=tags,
    ), child)
    return storage, identity


def _declare_on_minio(name: str, app: AppSettings, stack: StackSettings,
                      child: pulumi.ResourceOptions) -> tuple[MinioBucket, MinioIdentity]:
    storage = MinioBucket(f"{name}-storage", MinioBucketArgs(
        bucket_name=app.bucket_name,
        public_prefixes=tuple(area.prefix for area in app.areas if area.is_public),
        kms_key_id=stack.minio.kms_key_id if stack.minio else None,
        versioning=stack.versioning,
        noncurrent_version_expiration_days=stack.noncurrent_version_expiration_days,
        lifecycle=app.lifecycle,
        protect_data=stack.protect_data,
        force_destroy=stack.force_destroy,
    ), child)
    identity = MinioIdentity(f"{name}-identity", MinioIdentityArgs(
        user_name=app.bucket_name,
        bucket_arn=naming.minio_bucket_arn(app.bucket_name),
        prefixes=tuple(app.area_prefixes.values()),
        force_destroy=stack.force_destroy,
        tags=resource_tags(app, stack),
    ), child)
    return storage, identity
