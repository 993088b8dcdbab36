"""The typed, frozen settings the gate produces and the components consume."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pulumi import RunError

from components import naming
from components.messages import one_line


@dataclass(frozen=True)
class Area:
    name: str
    access: str
    prefix: str
    cache_control: str | None
    presign_seconds: int

    @property
    def is_public(self) -> bool:
        return self.access == "public"


@dataclass(frozen=True)
class Transition:
    days: int
    storage_class: str


@dataclass(frozen=True)
class LifecycleRule:
    prefix: str
    transitions: tuple[Transition, ...]
    expire_days: int | None
    rule_id: str | None = None
    """A kept rule's own id (`keep.lifecycle`); the stack's rules are numbered by `naming.lifecycle_rule_id`."""

    def id_at(self, position: int) -> str:
        """The rule's id as the bucket knows it: its own, or its 1-based position among the app's rules."""
        return self.rule_id or naming.lifecycle_rule_id(position, self.prefix)


@dataclass(frozen=True)
class CorsRule:
    origins: tuple[str, ...]
    methods: tuple[str, ...]
    headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age_seconds: int


@dataclass(frozen=True)
class Trust:
    """Who may assume an app's role: exactly one of a service, an OIDC provider, or principals."""
    service: str | None = None
    oidc_provider_arn: str | None = None
    oidc_audience: str | None = None
    oidc_subjects: tuple[str, ...] = ()
    principals: tuple[str, ...] = ()
    external_id: str | None = None


@dataclass(frozen=True)
class IdentitySettings:
    """How an app authenticates: `user` (access keys, rotated by generation) or `role` (AWS only, no key)."""
    kind: str = "user"
    generation: int = 1
    """The current key's generation; raising it by one replaces the key before the previous one (in the slot they
    share, deleted first) and keeps the previous one live."""
    retire_previous: bool = False
    trust: Trust | None = None

    @property
    def live_generations(self) -> tuple[int, ...]:
        """The key generations that exist, current first: at most the current and the previous one."""
        if self.kind != "user":
            return ()
        if self.generation == 1 or self.retire_previous:
            return (self.generation,)
        return (self.generation, self.generation - 1)


@dataclass(frozen=True)
class AlertSettings:
    """Who is told (the stack's emails) and the thresholds that tell them; None: that alert is off."""

    emails: tuple[str, ...] = ()
    monthly_budget_usd: int | None = None
    storage_bytes: int | None = None
    requests_per_5min: int | None = None
    app_monthly_budget_usd: int | None = None
    """The stack's only: every app's own budget unless it sets `monthlyBudgetUsd`."""


@dataclass(frozen=True)
class KeepSettings:
    """What an adopted bucket had that its other consumers need, kept by the stack instead of dropped (`keep`)."""

    policy_statements: tuple[Mapping, ...] = ()
    """Bucket policy statements appended to the stack's own, unchanged."""
    lifecycle: tuple[LifecycleRule, ...] = ()
    """Lifecycle rules declared after the app's own, under their own ids, on any prefix."""
    kms_key_arns: tuple[str, ...] = ()
    """Keys the app's identity may decrypt with: objects written before adoption under another key (aws)."""


@dataclass(frozen=True)
class AppSettings:
    name: str
    dialect: str
    bucket_name: str
    areas: tuple[Area, ...]
    cors: tuple[CorsRule, ...]
    lifecycle: tuple[LifecycleRule, ...]
    identity: IdentitySettings = IdentitySettings()
    alerts: AlertSettings = AlertSettings()
    """The app's thresholds over the stack's (`app-storage:alerts`); the stack's emails."""
    adopt: bool = False
    """The bucket exists already: the stack imports it (never creates it) and keeps it protected and retained."""
    keep: KeepSettings = KeepSettings()

    @property
    def area_prefixes(self) -> dict[str, str]:
        return {area.name: area.prefix for area in self.areas}


@dataclass(frozen=True)
class MinioSettings:
    server: str
    """`host:port`, as the MinIO provider takes it."""
    use_tls: bool
    kms_key_id: str | None
    """A key of MinIO's configured KMS (KES); buckets are encrypted with it when set."""

    @property
    def url(self) -> str:
        return f"{'https' if self.use_tls else 'http'}://{self.server}"


@dataclass(frozen=True)
class ReplicationSettings:
    region: str
    storage_class: str
    replication_time_control: bool


@dataclass(frozen=True)
class CdnSettings:
    price_class: str
    domains: Mapping[str, str]
    """App name -> custom domain of that app's distribution."""
    certificate_arn: str | None
    hosted_zone_id: str | None
    log_bucket: str | None
    web_acl_arn: str | None
    waf: str | None = None
    """`managed`: the stack declares one web ACL for its distributions."""
    hsts_preload: bool = True


@dataclass(frozen=True)
class StackSettings:
    stack: str
    backend: str
    region: str
    encryption: str
    kms_key_arn: str | None
    versioning: bool
    noncurrent_version_expiration_days: int
    abort_incomplete_multipart_upload_days: int
    protect_data: bool
    force_destroy: bool
    bucket_prefix: str
    tags: Mapping[str, str]
    apps: tuple[AppSettings, ...]
    minio: MinioSettings | None = None
    """Set exactly when the backend is minio."""
    replication: ReplicationSettings | None = None
    cdn: CdnSettings | None = None
    """Set when the CDN is enabled (aws only)."""
    public_without_cdn: bool = False
    warnings: tuple[str, ...] = field(default=())
    alerts: AlertSettings = field(default_factory=AlertSettings)
    """The stack's alert settings: emails, the stack's monthly budget, default thresholds."""
    log_retention_days: int = 365
    """Days the stack's log buckets keep access logs (`logRetentionDays`)."""


class SettingsError(RunError):
    """The stack config has problems; `problems` holds one clear message each.

    A RunError, so `pulumi up` prints the messages without a traceback.
    """

    def __init__(self, problems: list[str], keys: list[str] | None = None):
        self.problems = [one_line(problem) for problem in problems]
        self.keys = list(keys or [])
        """The config key path of each problem, where known (`Problems.keys`)."""
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(
            f"app-storage: the stack config has {count}; nothing was declared:\n"
            + "\n".join(f"  - {p}" for p in self.problems)
        )
