"""Prometheus alerting rules for a minio stack's buckets, from the settings alone (pure: no Pulumi, no files).

MinIO has no alert topic or budget the stack could declare; it publishes Prometheus metrics instead. The metric
names are MinIO's v2 bucket metrics, scraped from `/minio/v2/metrics/bucket`, as the release `compose.yaml` pins
(RELEASE.2025-04-22T22-12-26Z) documents them: docs/metrics/prometheus/list.md, "Bucket Metrics" (also
https://min.io/docs/minio/linux/operations/monitoring/metrics-v2-deprecated.html). Labels as that release sets
them (cmd/metrics-v2.go): usage has `bucket`; request counters have `bucket` and `api`; each node (`server`)
counts its own requests, so request counters are summed per bucket, and usage (the same on every node) is maxed.

Per app, each with `for:`, labels `severity`, `app`, `bucket`, `stack` and annotations `summary`, `description`,
`action`:
- `MinioBucketStorageNearQuota` (warning) at 80 % of `storageBytes`, `MinioBucketStorageQuotaReached` (critical)
  at `storageBytes`: on MinIO that is also the bucket's hard quota, so writes are being refused;
- `MinioBucketRequestRateHigh` (warning): more than `requestsPer5Min` requests in 5 minutes;
- `MinioBucketServerErrors` (critical): more than 1 % of the bucket's requests answered 5xx;
- `MinioBucketClientErrorSpike` (warning): more than 10 % answered 4xx, and at least 20 of them in 5 minutes;
- `MinioBucketReplicationFailing` (critical): objects failing replication, only where the stack replicates
  (never on minio today: pulumi-minio 0.17 cannot declare replication and the gate refuses it).
A threshold left unset leaves its alert out.
"""

from __future__ import annotations

from components.settings.types import AppSettings, StackSettings

MINIO_RELEASE = "RELEASE.2025-04-22T22-12-26Z"
METRICS_PATH = "/minio/v2/metrics/bucket"
USAGE_BYTES = "minio_bucket_usage_total_bytes"
REQUESTS = "minio_bucket_requests_total"
ERRORS_4XX = "minio_bucket_requests_4xx_errors_total"
ERRORS_5XX = "minio_bucket_requests_5xx_errors_total"
REPLICATION_FAILED = "minio_bucket_replication_total_failed_count"

STORAGE_WARN_FRACTION = 0.8
ERROR_5XX_RATIO = 0.01
ERROR_4XX_RATIO = 0.10
ERROR_4XX_MIN_PER_5MIN = 20
"""A 4xx spike needs this many in 5 minutes, so a few 404s on a quiet bucket page nobody."""


def _bytes(number: int) -> str:
    """`50000000000` -> `50 GB (50000000000 bytes)`: decimal units, as storageBytes is written (`50e9`)."""
    value, unit = float(number), "bytes"
    for next_unit in ("kB", "MB", "GB", "TB", "PB", "EB"):
        if value < 1000:
            break
        value, unit = value / 1000, next_unit
    return f"{number} bytes" if unit == "bytes" else f"{value:.3g} {unit} ({number} bytes)"


def _per_bucket(metric: str, bucket: str, window: str = "5m") -> str:
    return f'sum by (bucket) (increase({metric}{{bucket="{bucket}"}}[{window}]))'


def _rule(name: str, expr: str, duration: str, severity: str, app: AppSettings, stack: str,
          summary: str, description: str, action: str) -> dict:
    return {
        "alert": name,
        "expr": expr,
        "for": duration,
        "labels": {"severity": severity, "app": app.name, "bucket": app.bucket_name, "stack": stack},
        "annotations": {"summary": summary, "description": description, "action": action},
    }


def bucket_rules(app: AppSettings, stack: str, replicated: bool = False) -> list[dict]:
    """The rules of one app's bucket."""
    bucket, rules = app.bucket_name, []
    storage, requests = app.alerts.storage_bytes, app.alerts.requests_per_5min
    usage = f'max by (bucket) ({USAGE_BYTES}{{bucket="{bucket}"}})'
    if storage is not None:
        near = int(storage * STORAGE_WARN_FRACTION)
        rules.append(_rule(
            "MinioBucketStorageNearQuota", f"{usage} > {near}", "15m", "warning", app, stack,
            f"Bucket {bucket} ({app.name}) holds over {STORAGE_WARN_FRACTION:.0%} of its {_bytes(storage)} quota",
            f"MinIO's usage of bucket {bucket} is over {_bytes(near)}. storageBytes is the bucket's hard quota on "
            "MinIO: at it, every write is refused (HTTP 400 XMinioAdminBucketQuotaExceeded).",
            f"Find what grows (mc du --depth 2 <alias>/{bucket}); delete or expire what is not needed (lifecycle "
            f"expireDays), or raise apps.{app.name}.alerts.storageBytes and run pulumi up before the bucket fills."))
        rules.append(_rule(
            "MinioBucketStorageQuotaReached", f"{usage} >= {storage}", "5m", "critical", app, stack,
            f"Bucket {bucket} ({app.name}) is at its {_bytes(storage)} hard quota: writes are refused",
            f"MinIO's usage of bucket {bucket} has reached storageBytes, its hard quota: uploads of {app.name} fail "
            "with HTTP 400 XMinioAdminBucketQuotaExceeded until space is freed or the quota is raised.",
            f"Raise apps.{app.name}.alerts.storageBytes and run pulumi up (or, at once, mc quota set <alias>/{bucket} "
            "--size <bytes>, then the same value in the stack), or delete objects; usage is recomputed by MinIO's "
            "scanner, so the alert clears some minutes later."))
    if requests is not None:
        rules.append(_rule(
            "MinioBucketRequestRateHigh", f"{_per_bucket(REQUESTS, bucket)} > {requests}", "5m", "warning", app, stack,
            f"Bucket {bucket} ({app.name}) gets over {requests} requests per 5 minutes",
            f"Requests to bucket {bucket} (all S3 APIs, all MinIO nodes) have been over requestsPer5Min ({requests}) "
            "in each 5-minute window for 5 minutes.",
            f"Check which API grows (sum by (api) (increase({REQUESTS}{{bucket=\"{bucket}\"}}[5m]))): a retry loop "
            f"or a crawler of the public areas? Fix the caller, or raise apps.{app.name}.alerts.requestsPer5Min if "
            "the load is expected."))
    rules.append(_rule(
        "MinioBucketServerErrors",
        f"{_per_bucket(ERRORS_5XX, bucket)} / {_per_bucket(REQUESTS, bucket)} > {ERROR_5XX_RATIO}",
        "10m", "critical", app, stack,
        f"Bucket {bucket} ({app.name}): over {ERROR_5XX_RATIO:.0%} of requests fail with 5xx",
        f"More than {ERROR_5XX_RATIO:.0%} of the requests to bucket {bucket} have been answered 5xx for 10 minutes: "
        "MinIO itself is failing (drives, quorum, KMS, overload).",
        "Check mc admin info <alias> (drives offline, healing), the MinIO server log and its KMS; a 503 SlowDown "
        "means MinIO sheds load (MINIO_API_REQUESTS_MAX)."))
    rules.append(_rule(
        "MinioBucketClientErrorSpike",
        f"({_per_bucket(ERRORS_4XX, bucket)} / {_per_bucket(REQUESTS, bucket)} > {ERROR_4XX_RATIO}) and "
        f"({_per_bucket(ERRORS_4XX, bucket)} >= {ERROR_4XX_MIN_PER_5MIN})",
        "10m", "warning", app, stack,
        f"Bucket {bucket} ({app.name}): over {ERROR_4XX_RATIO:.0%} of requests refused with 4xx",
        f"More than {ERROR_4XX_RATIO:.0%} of the requests to bucket {bucket} (and at least {ERROR_4XX_MIN_PER_5MIN} "
        "in 5 minutes) have been answered 4xx for 10 minutes.",
        f"By API (sum by (api) (increase({ERRORS_4XX}{{bucket=\"{bucket}\"}}[5m]))): 403 after a key rotation or a "
        "policy change (re-run make env, make verify), 400 at the quota (see MinioBucketStorageQuotaReached), "
        "404 from a client reading keys that do not exist."))
    if replicated:
        rules.append(_rule(
            "MinioBucketReplicationFailing", f"{_per_bucket(REPLICATION_FAILED, bucket, '15m')} > 0", "5m",
            "critical", app, stack,
            f"Bucket {bucket} ({app.name}): objects fail to replicate",
            f"MinIO counted objects of bucket {bucket} that failed replication in the last 15 minutes.",
            f"Check mc replicate status <alias>/{bucket} and the target's credentials and reachability "
            "(minio_bucket_replication_credential_errors)."))
    return rules


def alert_rules(settings: StackSettings) -> dict:
    """The rule file (`groups:`) for a minio stack: one group, every app's bucket rules."""
    if settings.backend != "minio":
        raise ValueError(f"stack {settings.stack} is on {settings.backend}: these rules read MinIO's metrics")
    replicated = settings.replication is not None
    return {"groups": [{
        "name": f"app-storage-{settings.stack}-minio",
        "rules": [rule for app in settings.apps for rule in bucket_rules(app, settings.stack, replicated)],
    }]}
