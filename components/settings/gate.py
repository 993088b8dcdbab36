"""The settings gate: stack config in, frozen typed settings out.

Every `app-storage:*` key is read and checked before any resource is declared. All problems are collected
and reported together (`SettingsError`); each names the config key path, the bad value and the fix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from components import naming
from components.settings.adoption import adoption_warnings
from components.settings.alerts import read_alerts
from components.settings.apps import check_name_collisions, read_app, read_tags
from components.settings.backends import (
    asks_for,
    cache_control_nothing_applies,
    check_other_namespaces,
    check_public_delivery,
    minio_skipped_features,
    read_cdn,
    read_minio_backend,
    read_replication,
    refuse_aws_only_features,
)
from components.settings.identities import read_identity
from components.settings.readers import HIDDEN, Problems, check_known, key_path, read_bool, read_count, read_str
from components.settings.schema import BACKENDS, ENCRYPTION_KINDS, KMS_KEY_ARN, NAMESPACE, REGION, STACK_DEFAULTS
from components.settings.types import SettingsError, StackSettings


def decode_config_value(text: Any) -> Any:
    """Pulumi hands structured config to programs as JSON text; scalars stay as they are."""
    if isinstance(text, str) and text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except RecursionError:
            raise ValueError("nested too deep") from None
        except json.JSONDecodeError:
            return text  # not JSON after all: the readers report the text as the wrong type
        except ValueError:  # valid JSON Python will not read: an integer of more than 4300 digits
            raise ValueError("a number in it has too many digits") from None
    return text


def parse_settings(config: Mapping[str, Any], project: str, stack: str) -> StackSettings:
    """Turn a stack's config (full `namespace:key` names, as Pulumi stores it) into settings.

    Raises SettingsError listing every problem at once.
    """
    p = Problems()
    prefix = f"{NAMESPACE}:"
    data = {}
    unreadable = set()
    for key, value in config.items():
        if key.startswith(prefix):
            try:
                data[key[len(prefix):]] = decode_config_value(value)
            except ValueError as error:
                unreadable.add(key[len(prefix):])
                p.add(key, HIDDEN, f"is not readable structured config ({error})",
                      "Write it as a YAML map or list of plain values.")
    path = prefix
    check_known(p, path, data, STACK_DEFAULTS)
    check_other_namespaces(p, config)

    backend = read_str(p, path, data, "backend", STACK_DEFAULTS, BACKENDS)
    encryption = read_str(p, path, data, "encryption", STACK_DEFAULTS, ENCRYPTION_KINDS)
    kms_key_arn = read_str(p, path, data, "kmsKeyArn", STACK_DEFAULTS) or None
    if kms_key_arn and encryption != "kms":
        p.add(key_path(path, "kmsKeyArn"), kms_key_arn, f"is set but encryption is {encryption!r}",
              f"Set {NAMESPACE}:encryption to kms, or remove kmsKeyArn.")
    elif kms_key_arn and not KMS_KEY_ARN.match(kms_key_arn):
        p.add(key_path(path, "kmsKeyArn"), kms_key_arn, "is not a KMS key ARN",
              "Use arn:aws:kms:<region>:<account>:key/<key-id>, or leave it out to create a rotated key.")
    protect_data = read_bool(p, path, data, "protectData", STACK_DEFAULTS)
    force_destroy = read_bool(p, path, data, "forceDestroy", STACK_DEFAULTS)
    if protect_data and force_destroy:
        p.add(key_path(path, "forceDestroy"), True, "would let a destroy delete every object, but protectData is true",
              "Set forceDestroy to false, or protectData to false for a disposable stack.")

    warnings: list[str] = []
    minio = None
    region: Any
    if backend == "minio":
        minio, region = read_minio_backend(p, warnings, config, data, encryption)
    else:
        region = config.get("aws:region")
        if not region:
            p.add("aws:region", region, "is required for the aws backend",
                  "Run `pulumi config set aws:region us-east-1`.")
        elif not REGION.match(str(region)):
            p.add("aws:region", region, "is not an AWS region name", "Use a region like us-east-1.")
        if read_str(p, path, data, "minioKmsKeyId", STACK_DEFAULTS):
            p.add(key_path(path, "minioKmsKeyId"), data["minioKmsKeyId"], "applies only to the minio backend",
                  f"Remove it; on aws use {NAMESPACE}:encryption kms (and kmsKeyArn for an existing key).")
    if backend == "minio":
        refuse_aws_only_features(p, path, data)

    # Empty (Pulumi.yaml's default) means derived: a bare app name would be a bucket name nobody chose.
    bucket_prefix = str(read_str(p, path, data, "bucketPrefix", STACK_DEFAULTS)
                        or naming.default_bucket_prefix(project, stack))

    apps_path = key_path(path, "apps")
    raw_apps = data.get("apps")
    if (not isinstance(raw_apps, dict) or not raw_apps) and "apps" not in unreadable:
        p.add(apps_path, raw_apps, "must name at least one app",
              "Add e.g. `app-storage:apps: {myapp: {dialect: django}}` to the stack file.")
    raw_apps = raw_apps if isinstance(raw_apps, dict) else {}
    identity_path = key_path(path, "identity")
    stack_identity = (identity_path, read_identity(p, identity_path, data.get("identity")))
    apps = [a for a in (read_app(p, key_path(apps_path, name), name, app, bucket_prefix, protect_data, backend,
                                 stack_identity, warnings, force_destroy, str(region or "us-east-1"))
                        for name, app in raw_apps.items()) if a]
    alerts_path = key_path(path, "alerts")
    stack_alerts = read_alerts(p, alerts_path, data.get("alerts"), stack_wide=True)
    apps = [replace(app, alerts=read_alerts(
        p, key_path(key_path(apps_path, app.name), "alerts"), (raw_apps.get(app.name) or {}).get("alerts"),
        stack_wide=False, default=stack_alerts)) for app in apps]

    replication = cdn = None
    public_without_cdn = read_bool(p, path, data, "publicWithoutCdn", STACK_DEFAULTS)
    versioning = read_bool(p, path, data, "versioning", STACK_DEFAULTS)
    if backend == "aws":
        replication = read_replication(p, path, data, str(region or ""), versioning)
        cdn = read_cdn(p, warnings, path, data, apps)
        check_public_delivery(p, warnings, path, apps, cdn, public_without_cdn, kms_key_arn)
    else:
        if not asks_for(data.get("cdn")):
            read_cdn(p, warnings, path, data, apps)  # a switched-off block is still checked, never ignored
        if public_without_cdn:
            warnings.append(f"{key_path(path, 'publicWithoutCdn')} has no effect on minio: MinIO serves the public "
                            "areas itself, anonymously, from their prefixes. Remove it from this stack.")
    check_name_collisions(p, apps_path, apps, backend, replicated=replication is not None)
    for app in apps:
        warnings.extend(adoption_warnings(key_path(apps_path, app.name), app.adopt, protect_data,
                                          replicated=replication is not None))

    settings = StackSettings(
        stack=stack,
        backend=backend,
        region=str(region or "us-east-1"),
        encryption=encryption,
        kms_key_arn=kms_key_arn,
        versioning=versioning,
        noncurrent_version_expiration_days=read_count(p, path, data, "noncurrentVersionExpirationDays",
                                                     STACK_DEFAULTS, 1, 36500, "days"),
        abort_incomplete_multipart_upload_days=read_count(p, path, data, "abortIncompleteMultipartUploadDays",
                                                         STACK_DEFAULTS, 1, 365, "days"),
        protect_data=protect_data,
        force_destroy=force_destroy,
        bucket_prefix=bucket_prefix,
        tags=read_tags(p, path, data),
        apps=tuple(apps),
        minio=minio,
        replication=replication,
        cdn=cdn,
        public_without_cdn=public_without_cdn and backend == "aws",
        alerts=stack_alerts,
        log_retention_days=read_count(p, path, data, "logRetentionDays", STACK_DEFAULTS, 1, 36500, "days"),
    )
    if backend == "minio":
        warnings.extend(minio_skipped_features(settings))
    warnings.extend(cache_control_nothing_applies(settings))
    if p.messages:
        raise SettingsError(p.messages, p.keys)
    return replace(settings, warnings=tuple(warnings))


def current_stack_config() -> dict[str, Any]:
    """The running program's config, as the Pulumi language host (or the offline plan) provided it."""
    from pulumi.runtime import config as runtime_config

    merged = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    return merged


def load_settings() -> StackSettings:
    """Settings of the stack being run; a SettingsError stops the program before any resource."""
    import pulumi

    return parse_settings(current_stack_config(), pulumi.get_project(), pulumi.get_stack())
