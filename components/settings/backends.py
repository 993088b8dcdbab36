"""Backend rules: what each backend needs (MinIO's server, AWS's region), what only AWS can give (replication,
the CDN, public delivery), and, where a stack asks a backend for what it cannot declare, a problem or - harmless
to skip on a dev backend - one warning naming the feature and the apps. Nothing is dropped silently."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from components import naming
from components.settings.readers import (
    HIDDEN,
    Problems,
    check_known,
    key_path,
    read_bool,
    read_map,
    read_matching,
    read_str,
)
from components.settings.schema import (
    ACM_CERTIFICATE_ARN,
    CDN_DEFAULTS,
    DOMAIN,
    HOST_PORT,
    HOSTED_ZONE_ID,
    KNOWN_NAMESPACES,
    LOCAL_HOSTS,
    MINIO_CREDENTIAL_KEYS,
    MINIO_PROVIDER_DEFAULTS,
    MINIO_PROVIDER_KEYS,
    NAMESPACE,
    PRICE_CLASSES,
    REGION,
    REPLICA_STORAGE_CLASSES,
    REPLICATION_DEFAULTS,
    STACK_DEFAULTS,
    WAF_KINDS,
    WAF_WEB_ACL_ARN,
)
from components.settings.types import AppSettings, CdnSettings, MinioSettings, ReplicationSettings, StackSettings

# ---------------------------------------------------------------------------------------------
# Backend capabilities. Where the stack asks a backend for what it cannot declare, the gate decides per
# feature: harmless to skip on a dev backend -> one warning naming the feature and the apps; meaningful
# -> a problem. Nothing is dropped silently.


def check_other_namespaces(p: Problems, config: Mapping[str, Any]) -> None:
    """MinIO credentials (or misspellings of them) in the stack, on any backend; unknown MinIO settings; near
    misses of a known namespace. None of their values is ever shown: it may be a password."""
    for key in config:
        namespace, _, name = str(key).partition(":")
        if namespace == "minio" and name not in MINIO_PROVIDER_KEYS:
            if name in MINIO_CREDENTIAL_KEYS or difflib.get_close_matches(name, MINIO_CREDENTIAL_KEYS, n=1, cutoff=0.8):
                p.add(key, HIDDEN, "is a MinIO credential in the stack config, or a misspelling of one (its value is "
                      "not shown)", f"Remove it (`pulumi config rm {key}`) and export MINIO_USER and MINIO_PASSWORD; "
                      "the provider reads them from the environment.")
            else:
                guess = difflib.get_close_matches(name, MINIO_PROVIDER_KEYS, n=1, cutoff=0.6)
                p.add(key, HIDDEN, "is not a setting of the MinIO provider (its value is not shown)",
                      f"Did you mean 'minio:{guess[0]}'?" if guess else
                      f"Known: {', '.join('minio:' + k for k in MINIO_PROVIDER_KEYS)}.")
        elif namespace not in KNOWN_NAMESPACES:
            guess = difflib.get_close_matches(namespace, KNOWN_NAMESPACES, n=1, cutoff=0.75)
            if guess:
                p.add(key, HIDDEN, f"is in the namespace '{namespace}', which nothing here reads (its value is not "
                      "shown)", f"Did you mean '{guess[0]}:{name}'?")


def read_minio_backend(p: Problems, warnings: list[str], config: Mapping[str, Any], data: Mapping,
                         encryption: str) -> tuple[MinioSettings, str]:
    path = "minio:"
    provider = {key[len(path):]: value for key, value in config.items() if key.startswith(path)}
    server = read_str(p, path, provider, "minioServer", MINIO_PROVIDER_DEFAULTS)
    use_tls = read_bool(p, path, provider, "minioSsl", MINIO_PROVIDER_DEFAULTS)
    region = read_str(p, path, provider, "minioRegion", MINIO_PROVIDER_DEFAULTS) or "us-east-1"
    host = HOST_PORT.match(server or "")
    if not server:
        p.add(key_path(path, "minioServer"), server, "is required for the minio backend",
              "Run `pulumi config set minio:minioServer localhost:9000`.")
    elif not host:
        p.add(key_path(path, "minioServer"), server, "must be host:port, without scheme or path",
              "Write it like localhost:9000; TLS is chosen by minio:minioSsl.")
    elif not use_tls and host.group("host") not in LOCAL_HOSTS:
        warnings.append(f"minio:minioServer {server!r} is not this machine and minio:minioSsl is false: keys and "
                        "objects travel unencrypted. Set minio:minioSsl to true for a shared MinIO.")

    kms_key_id = read_str(p, NAMESPACE + ":", data, "minioKmsKeyId", STACK_DEFAULTS) or None
    if data.get("kmsKeyArn") and encryption == "kms":
        p.add(key_path(NAMESPACE + ":", "kmsKeyArn"), data["kmsKeyArn"], "is an AWS KMS key, which MinIO cannot use",
              f"Name a key of MinIO's KMS in {NAMESPACE}:minioKmsKeyId instead.")
    if encryption == "kms" and not kms_key_id:
        p.add(key_path(NAMESPACE + ":", "encryption"), encryption,
              "asks for KMS encryption, which MinIO gives only with a key of its own KMS (KES)",
              f"Set {NAMESPACE}:minioKmsKeyId to that key's name, or use aes256 for a dev stack.")
    return MinioSettings(server=server or "", use_tls=use_tls, kms_key_id=kms_key_id), region


# Stack-level features only AWS can give.
AWS_ONLY_FEATURES = {
    "replication": "cross-region replication",
    "cdn": "the CloudFront CDN",
}


def asks_for(value: Any) -> bool:
    if isinstance(value, dict):
        return bool(value) and value.get("enabled", True) not in (False, "false")
    return value not in (None, False, "false", "")


def refuse_aws_only_features(p: Problems, path: str, data: Mapping) -> None:
    for key, feature in AWS_ONLY_FEATURES.items():
        if asks_for(data.get(key)):
            p.add(key_path(path, key), data[key], f"asks the minio backend for {feature}, which pulumi-minio 0.17 "
                  "cannot declare", f"Remove {key_path(path, key)} from this stack; it belongs to an aws stack.")


def read_replication(p: Problems, path: str, data: Mapping, source_region: str,
                      versioning: bool) -> ReplicationSettings | None:
    raw = data.get("replication")
    if not asks_for(raw):
        return None
    key = key_path(path, "replication")
    if not isinstance(raw, dict):
        p.add(key, raw, "must be a replication object", "Write e.g. `{region: us-west-2}`.")
        return None
    check_known(p, key, raw, REPLICATION_DEFAULTS)
    region = read_str(p, key, raw, "region", REPLICATION_DEFAULTS)
    if not region:
        p.add(key_path(key, "region"), region, "is required: the region of the replica buckets",
              "Set it to another region than aws:region, e.g. us-west-2.")
    elif not REGION.match(region):
        p.add(key_path(key, "region"), region, "is not an AWS region name", "Use a region like us-west-2.")
    elif region == source_region:
        p.add(key_path(key, "region"), region, "is the source region, so one regional outage takes both copies",
              f"Choose a region other than aws:region ({source_region}).")
    if not versioning:
        p.add(key_path(path, "versioning"), False, "is off, but replication needs versioning on both buckets",
              f"Set {key_path(path, 'versioning')} to true, or remove {key}.")
    return ReplicationSettings(
        region=region or "",
        storage_class=read_str(p, key, raw, "storageClass", REPLICATION_DEFAULTS, REPLICA_STORAGE_CLASSES),
        replication_time_control=read_bool(p, key, raw, "replicationTimeControl", REPLICATION_DEFAULTS),
    )


def read_cdn(p: Problems, warnings: list[str], path: str, data: Mapping,
              apps: list[AppSettings]) -> CdnSettings | None:
    raw = data.get("cdn")
    key = key_path(path, "cdn")
    if raw is not None and not isinstance(raw, dict):
        p.add(key, raw, "must be a CDN object", "Write e.g. `{enabled: true, priceClass: PriceClass_100}`.")
        return None
    raw = raw or {}
    check_known(p, key, raw, CDN_DEFAULTS)
    enabled = read_bool(p, key, raw, "enabled", CDN_DEFAULTS)
    public_apps = {app.name for app in apps if any(area.is_public for area in app.areas)}
    domains = {}
    for app_name, domain in read_map(p, key, raw, "domains", CDN_DEFAULTS).items():
        domain_key = key_path(key_path(key, "domains"), app_name)
        if app_name not in public_apps:
            p.add(domain_key, domain, "names an app without public areas, which gets no distribution",
                  f"Use one of: {', '.join(sorted(public_apps)) or 'no app has public areas'}.")
        elif not isinstance(domain, str) or not DOMAIN.match(domain):
            p.add(domain_key, domain, "is not a domain name", "Write a lowercase host name like media.example.com.")
        else:
            domains[app_name] = domain
    certificate_arn = read_matching(
        p, key, raw, "certificateArn", CDN_DEFAULTS, ACM_CERTIFICATE_ARN, "is not an ACM certificate ARN in us-east-1",
        "CloudFront takes certificates only from us-east-1: arn:aws:acm:us-east-1:<account>:certificate/<id>.")
    hosted_zone_id = read_matching(p, key, raw, "hostedZoneId", CDN_DEFAULTS, HOSTED_ZONE_ID,
                                    "is not a Route53 hosted zone id", "Use the zone's id, like Z0123456789ABCDEFGHIJ.")
    if enabled and domains and not (certificate_arn or hosted_zone_id):
        p.add(key_path(key, "domains"), domains, "need a certificate",
              f"Set {key_path(key, 'certificateArn')} (an ACM certificate in us-east-1 covering them), or "
              f"{key_path(key, 'hostedZoneId')} to create and DNS-validate one.")
    log_bucket = read_str(p, key, raw, "logBucket", CDN_DEFAULTS)
    if log_bucket and naming.bucket_name_problems(log_bucket):
        p.add(key_path(key, "logBucket"), log_bucket, "is not a valid S3 bucket name",
              "Name the existing bucket that receives CloudFront standard logs.")
    web_acl_arn = read_matching(p, key, raw, "webAclArn", CDN_DEFAULTS, WAF_WEB_ACL_ARN,
                                 "is not a CloudFront-scope WAFv2 web ACL ARN",
                                 "Use arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>.")
    price_class = read_str(p, key, raw, "priceClass", CDN_DEFAULTS, PRICE_CLASSES)
    waf = read_str(p, key, raw, "waf", CDN_DEFAULTS, WAF_KINDS)
    if waf and web_acl_arn:
        p.add(key_path(key, "waf"), waf, f"declares a web ACL, and {key_path(key, 'webAclArn')} names one already",
              f"Keep one: {key_path(key, 'waf')}: managed, or {key_path(key, 'webAclArn')}.")
    hsts_preload = read_bool(p, key, raw, "hstsPreload", CDN_DEFAULTS)
    if not enabled:
        return None  # read in full all the same: a typo in a switched-off block fails now, not when switched on
    if not public_apps:
        warnings.append(f"{key} is enabled but no app has a public area, so no distribution is declared.")
    return CdnSettings(price_class=price_class, domains=domains, certificate_arn=certificate_arn,
                       hosted_zone_id=hosted_zone_id, log_bucket=log_bucket, web_acl_arn=web_acl_arn, waf=waf,
                       hsts_preload=hsts_preload)


def check_public_delivery(p: Problems, warnings: list[str], path: str, apps: list[AppSettings],
                           cdn: CdnSettings | None, public_without_cdn: bool, kms_key_arn: str | None) -> None:
    """On AWS a public area is served by the CDN from a private bucket, or - opted in - by S3 itself."""
    public = {app.name: [a.name for a in app.areas if a.is_public] for app in apps}
    public = {name: areas for name, areas in public.items() if areas}
    if public_without_cdn and cdn:
        p.add(key_path(path, "publicWithoutCdn"), True, "opens the buckets to the public, but the CDN serves them",
              f"Remove {key_path(path, 'publicWithoutCdn')}; the CDN reads a private bucket.")
        return
    for app_name, areas in public.items():
        if cdn is None and not public_without_cdn:
            p.add(key_path(key_path(path, "apps"), app_name), f"public: {', '.join(areas)}",
                  "has public areas, but no CDN serves them and the bucket blocks public access",
                  f"Set {key_path(path, 'cdn')}: {{enabled: true}} (private bucket behind CloudFront), or "
                  f"{key_path(path, 'publicWithoutCdn')}: true to let S3 serve them (relaxes Block Public Access).")
    if public_without_cdn and public:
        warnings.append(f"{key_path(path, 'publicWithoutCdn')}: anyone can read the public areas of apps "
                        f"{', '.join(public)} straight from S3; BlockPublicPolicy and RestrictPublicBuckets are off "
                        "on those buckets.")
    if cdn and public and kms_key_arn:
        warnings.append(f"{key_path(path, 'kmsKeyArn')}: the key is yours, so its key policy is not managed here; it "
                        f"must let the distributions of apps {', '.join(public)} decrypt (kms:Decrypt for "
                        "cloudfront.amazonaws.com, conditioned on each distribution's ARN).")


def cache_control_nothing_applies(settings: StackSettings) -> list[str]:
    """`cacheControl` is sent by the CDN for the public areas it serves; elsewhere (MinIO, S3 without a CDN,
    private areas read through presigned URLs) only the object's own Cache-Control reaches a browser."""
    served_by_cdn = settings.backend == "aws" and settings.cdn is not None
    unapplied = [f"{app.name}.{area.name}" for app in settings.apps for area in app.areas
                 if area.cache_control and not (area.is_public and served_by_cdn)]
    if not unapplied:
        return []
    return [f"cacheControl of areas {', '.join(unapplied)} is not applied by anything on this stack (no CDN "
            "serves them): set Cache-Control on each object when the app uploads it (django-storages: "
            "AWS_S3_OBJECT_PARAMETERS = {'CacheControl': ...}; boto3: ExtraArgs={'CacheControl': ...}; minio-py: "
            "metadata={'Cache-Control': ...})."]


def skipped_note(feature: str, apps: list[str], why: str) -> str | None:
    if not apps:
        return None
    return f"{feature} skipped on minio for app{'s' if len(apps) > 1 else ''} {', '.join(apps)}: {why}"


def minio_skipped_features(settings: StackSettings) -> list[str]:
    """What a minio stack asks for that pulumi-minio 0.17 cannot declare, each harmless to skip in dev."""
    every_app = [app.name for app in settings.apps]
    notes = [
        skipped_note("CORS rules", [app.name for app in settings.apps if app.cors],
                 "pulumi-minio 0.17 has no bucket CORS resource; MinIO answers CORS itself, server-wide "
                 "(MINIO_API_CORS_ALLOW_ORIGIN)."),
        skipped_note("lifecycle tier transitions", [app.name for app in settings.apps
                                                if any(rule.transitions for rule in app.lifecycle)],
                 "pulumi-minio 0.17 cannot declare transitions; expiry rules are kept."),
        skipped_note("aborting incomplete multipart uploads", every_app,
                 "pulumi-minio 0.17 cannot declare the rule; MinIO removes stale uploads itself."),
        skipped_note("tags", every_app if settings.tags else [],
                 "pulumi-minio 0.17 buckets take no tags, and its users never send theirs to MinIO."),
    ]
    if settings.minio is not None and not settings.minio.kms_key_id:
        notes.append(skipped_note("default encryption", every_app,
                              f"MinIO encrypts only with a key of its KMS; set {NAMESPACE}:minioKmsKeyId to one."))
    return [note for note in notes if note] + minio_alert_notes(settings)


def minio_alert_notes(settings: StackSettings) -> list[str]:
    """On minio, `storageBytes` is also each bucket's hard quota, and what needs AWS (the alert topic's emails, cost
    budgets) is not delivered by the stack: the Prometheus rules of `make alerts` watch MinIO instead."""
    notes = []
    quotas = [f"{app.name} ({app.alerts.storage_bytes} bytes)" for app in settings.apps
              if app.alerts.storage_bytes is not None]
    if quotas:
        notes.append(f"storageBytes is the bucket's hard quota on minio for app{'s' if len(quotas) > 1 else ''} "
                     f"{', '.join(quotas)}: MinIO refuses every write beyond it (HTTP 400 "
                     "XMinioAdminBucketQuotaExceeded), it does not only alert. `make alerts` warns at 80 %; raise "
                     "storageBytes before a bucket fills.")
    undelivered = []
    if settings.alerts.emails:
        undelivered.append(f"{NAMESPACE}:alerts.emails")
    if settings.alerts.monthly_budget_usd is not None:
        undelivered.append(f"{NAMESPACE}:alerts.monthlyBudgetUsd")
    undelivered += [f"{NAMESPACE}:apps.{app.name}.alerts.monthlyBudgetUsd" for app in settings.apps
                    if app.alerts.monthly_budget_usd not in (None, settings.alerts.monthly_budget_usd)]
    if undelivered:
        notes.append(f"{', '.join(undelivered)} {'is' if len(undelivered) == 1 else 'are'} not delivered on minio: "
                     "the stack declares no alert topic (SNS) and no cost budget there. The Prometheus rules of "
                     "`make alerts` (storage, requests, errors) take their place: load them into the Prometheus "
                     "that scrapes MinIO and route them to these people with Alertmanager.")
    return notes
