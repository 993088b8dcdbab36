"""Alerts on AWS: one encrypted SNS topic per stack (StackAlerts) and each app's alarms and budget (AppAlarms).

Defaults (behaviour):
- StackAlerts: one standard SNS topic, encrypted with a customer KMS key of its own (rotation on, a 30-day deletion
  window, an explicit key policy). The publishers cannot use the AWS managed `aws/sns` key, whose policy nobody can
  change: AWS's SNS guide ("Enable compatibility between event sources from AWS services and encrypted topics",
  https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services) says to use a
  customer managed key whose policy gives the service principal `kms:GenerateDataKey*` and `kms:Decrypt`; AWS
  Budgets says the same of its encrypted topics ("Configuring Amazon SNS topic permissions for budget alerts",
  https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html). The key policy gives
  exactly those two actions to `cloudwatch.amazonaws.com` and `budgets.amazonaws.com`, Budgets' only for this
  account (`aws:SourceAccount`, documented; see PUBLISHERS_SENDING_SOURCE_ACCOUNT_TO_KMS); the account administers
  the key through IAM.
- The topic policy lets the owning account manage the topic, lets CloudWatch alarms (`aws:SourceArn` an alarm of
  this account and region) and AWS Budgets (`aws:SourceArn` a budget of this account, as Budgets documents) publish,
  each only for this account (`aws:SourceAccount`), and refuses every request not made over TLS
  (`aws:SecureTransport`).
- One `email` subscription per address of `alerts.emails`; each address confirms by mail before it gets anything.
- A stack budget (COST, MONTHLY, in USD) when `alerts.monthlyBudgetUsd` is set: notified at 80 % of the actual
  cost and at 100 % of the forecast. The cost allocation tag `app-storage:app` is activated when any app has a
  budget of its own, whose cost filter names the tag (`TagKeyValue`, `user:app-storage:app$<app>`).
- A second topic (and key) in us-east-1, where CloudFront's metrics and so the CDN alarms live, when the stack's
  region is another: an alarm notifies SNS topics of its own region (see `EDGE_REGION`).
- AppAlarms (per app, when the stack has alerts): request metrics for the whole bucket (`EntireBucket`), and alarms
  on stored bytes, request rate, 5xx and 4xx error rates, replication latency and failures (where the app
  replicates) and the CDN's 5xx error rate (where a distribution serves); every alarm notifies the topic when it
  fires and when it recovers. Missing data is not breaching: S3 and CloudFront report nothing for a quiet
  bucket or distribution, and a quiet bucket is not an outage.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components import documents, naming
from components.aws.account import account_id
from components.aws.cdn import CLOUDFRONT_REGION
from components.aws.secure_bucket import KMS_KEY_DELETION_WINDOW_DAYS
from components.settings.types import AlertSettings, StackSettings

CLOUDWATCH_SERVICE = "cloudwatch.amazonaws.com"
BUDGETS_SERVICE = "budgets.amazonaws.com"
PUBLISHER_KEY_ACTIONS = ("kms:GenerateDataKey*", "kms:Decrypt")
"""What a service needs on the key to publish to an encrypted topic (SNS guide, compatibility section)."""
EDGE_REGION = CLOUDFRONT_REGION
"""CloudFront publishes its metrics in us-east-1 only ("Monitoring CloudFront metrics with Amazon CloudWatch"), so
the CDN alarms live there. An alarm action names an SNS topic, and the CloudWatch guide's alarm actions pick topics
of the alarm's Region; we found no AWS page promising delivery to another Region's topic, so a stack elsewhere gets
a second topic in us-east-1 rather than relying on it."""
COST_ALLOCATION_TAG = "app-storage:app"
"""The tag every app's resources carry (AppStorage's `resource_tags`); a budget filters on it once it is active."""
BUDGET_ACTUAL_PERCENT = 80.0
BUDGET_FORECAST_PERCENT = 100.0
REQUEST_METRICS_FILTER_ID = "EntireBucket"
"""The request metrics configuration's id: no filter, so it counts every request to the bucket."""
SERVER_ERROR_RATE_PERCENT = 1.0
"""5xx responses as a share of requests over five minutes: S3's SLA counts an error rate in whole percent, and a
healthy bucket answers far below 1 % with 5xx (503 SlowDown included)."""
CLIENT_ERROR_RATE_PERCENT = 10.0
"""4xx responses as a share of requests: a few are normal (a 404 for a missing key, a 403 for an expired
presigned URL); a tenth of all requests means broken credentials, a broken client or someone probing."""
CDN_5XX_ERROR_RATE_PERCENT = 5.0
"""CloudFront's 5xxErrorRate (already a percentage): origin failover hides single failures, so 5 % is trouble."""
REPLICATION_LATENCY_SECONDS_RTC = 15 * 60
"""With Replication Time Control S3 replicates 99.99 % of objects within 15 minutes: the SLA is the threshold."""
REPLICATION_LATENCY_SECONDS = 60 * 60
"""Without RTC S3 gives no bound ("most objects replicate within 15 minutes"; some take hours): an hour behind is
worth a look."""
FIVE_MINUTES = 300
ONE_DAY = 86400

STORAGE_TYPES: dict[str, tuple[str, ...]] = {
    "STANDARD": ("StandardStorage",),
    "STANDARD_IA": ("StandardIAStorage", "StandardIASizeOverhead"),
    "ONEZONE_IA": ("OneZoneIAStorage", "OneZoneIASizeOverhead"),
    "INTELLIGENT_TIERING": ("IntelligentTieringFAStorage", "IntelligentTieringIAStorage",
                            "IntelligentTieringAIAStorage"),
    "GLACIER_IR": ("GlacierInstantRetrievalStorage", "GlacierIRSizeOverhead"),
    "GLACIER": ("GlacierStorage", "GlacierStagingStorage", "GlacierObjectOverhead", "GlacierS3ObjectOverhead"),
    "DEEP_ARCHIVE": ("DeepArchiveStorage", "DeepArchiveObjectOverhead", "DeepArchiveS3ObjectOverhead",
                     "DeepArchiveStagingStorage"),
}
"""Storage class -> the `StorageType` values of `BucketSizeBytes` it is billed (and reported) under (S3 user guide,
"Metrics and dimensions", Amazon S3 daily storage metrics for buckets)."""
MAX_ALARM_METRICS = 10
"""PutMetricAlarm takes at most 10 metrics in `Metrics` for a metric math alarm (the expression included)."""


def alert_topic_name(bucket_prefix: str) -> str:
    """`<bucketPrefix>-alerts`, dots as dashes: SNS topic names take letters, digits, `-` and `_`, up to 256
    (CreateTopic Name)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", bucket_prefix) + "-alerts"


def stack_budget_name(bucket_prefix: str) -> str:
    """`<bucketPrefix>-monthly` (budget names are unique per account and take no `:` or `\\`)."""
    return f"{bucket_prefix}-monthly"


def app_budget_name(bucket_name: str) -> str:
    """`<bucket>-monthly`: the app's own budget."""
    return f"{bucket_name}-monthly"


def has_alerts(settings: StackSettings) -> bool:
    """Whether the stack declares any alert: emails, the stack's budget, or any app's threshold or budget."""
    every = (settings.alerts, *(app.alerts for app in settings.apps))
    return bool(settings.alerts.emails) or any(
        a.monthly_budget_usd is not None or a.storage_bytes is not None or a.requests_per_5min is not None
        for a in every)


def email_slot(email: str) -> str:
    """A stable, address-free child name per subscription: adding or removing one address renames no other."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:10]


PUBLISHERS_SENDING_SOURCE_ACCOUNT_TO_KMS = (BUDGETS_SERVICE,)
"""The publishers whose KMS requests AWS documents to carry aws:SourceAccount (Budgets, "Configuring Amazon SNS
topic permissions for budget alerts", encrypted topics). CloudWatch's key statement has no condition: no AWS page
read shows CloudWatch sending it to KMS, and a condition the service does not send drops every notification
silently (SNS Developer Guide, "Enable compatibility between event sources from AWS services and encrypted
topics", shows the statement without one). The topic policy still limits publishing to this account's alarms."""


def alert_key_policy(account_id: str, partition: str = "aws") -> dict:
    """The topic key's policy: IAM administers it; CloudWatch and Budgets may use it to publish."""
    statements = []
    for sid, service in (("CloudWatch", CLOUDWATCH_SERVICE), ("Budgets", BUDGETS_SERVICE)):
        statement: dict = {"Sid": f"{sid}PublishesToTheAlertTopic", "Effect": "Allow",
                           "Principal": {"Service": service}, "Action": list(PUBLISHER_KEY_ACTIONS), "Resource": "*"}
        if service in PUBLISHERS_SENDING_SOURCE_ACCOUNT_TO_KMS:
            statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account_id}}
        statements.append(statement)
    return documents.key_policy(f"arn:{partition}:iam::{account_id}:root", statements)


def alert_topic_policy(topic_arn: str, account_id: str, region: str) -> dict:
    """The topic's policy: the account manages it, CloudWatch alarms and Budgets of this account publish, TLS only."""
    partition = naming.partition_for(region)
    return documents.policy([
        {"Sid": "AccountManagesTheTopic", "Effect": "Allow",
         "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
         "Action": ["sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:AddPermission", "sns:RemovePermission",
                    "sns:DeleteTopic", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:Publish"],
         "Resource": topic_arn},
        {"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow", "Principal": {"Service": CLOUDWATCH_SERVICE},
         "Action": "sns:Publish", "Resource": topic_arn,
         "Condition": {"StringEquals": {"aws:SourceAccount": account_id},
                       "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:*"}}},
        {"Sid": "BudgetsPublish", "Effect": "Allow", "Principal": {"Service": BUDGETS_SERVICE},
         "Action": "sns:Publish", "Resource": topic_arn,
         "Condition": {"StringEquals": {"aws:SourceAccount": account_id},
                       "ArnLike": {"aws:SourceArn": f"arn:{partition}:budgets::{account_id}:*"}}},
        documents.deny_without_tls("sns:*", topic_arn),
    ])


def budget_notifications(topic_arn: pulumi.Input[str]) -> list[aws.budgets.BudgetNotificationArgsDict]:
    """80 % of the actual cost, 100 % of the forecast, both to the topic."""
    return [{"comparison_operator": "GREATER_THAN", "threshold": percent, "threshold_type": "PERCENTAGE",
             "notification_type": kind, "subscriber_sns_topic_arns": [topic_arn]}
            for percent, kind in ((BUDGET_ACTUAL_PERCENT, "ACTUAL"), (BUDGET_FORECAST_PERCENT, "FORECASTED"))]


def app_cost_filter(app_name: str) -> aws.budgets.BudgetCostFilterArgsDict:
    """Only the app's cost: the active cost allocation tag as Budgets names it (`user:<key>$<value>`)."""
    return {"name": "TagKeyValue", "values": [f"user:{COST_ALLOCATION_TAG}${app_name}"]}


@dataclass(frozen=True)
class StackAlertsArgs:
    topic_name: str
    region: str
    emails: tuple[str, ...] = ()
    monthly_budget_usd: int | None = None
    budget_name: str = ""
    activate_app_cost_tag: bool = False
    """Any app has a budget of its own: activate the `app-storage:app` cost allocation tag its filter names."""
    edge_topic: bool = False
    """Declare a second topic in us-east-1 for the CDN alarms (only when `region` is another)."""
    protect_data: bool = True
    """The keys are protected and retained like the buckets' (the pack requires every key protected in prod)."""
    tags: Mapping[str, str] = field(default_factory=dict)


class StackAlerts(pulumi.ComponentResource):
    topic_arn: pulumi.Output[str]
    edge_topic_arn: pulumi.Output[str]
    """The topic the CDN alarms (in us-east-1) notify: `topic_arn` itself when the stack is in us-east-1."""

    def __init__(self, name: str, args: StackAlertsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("app-storage:index:StackAlerts", name, None, opts)
        self._account = account_id(self)
        self.topic_arn = self._topic(name, args.topic_name, args.region, args)
        self.edge_topic_arn = self.topic_arn
        if args.edge_topic and args.region != EDGE_REGION:
            self.edge_topic_arn = self._topic(f"{name}-edge", f"{args.topic_name}-edge", EDGE_REGION, args)
        child = pulumi.ResourceOptions(parent=self)
        if args.monthly_budget_usd is not None:
            aws.budgets.Budget(f"{name}-budget", name=args.budget_name, budget_type="COST", time_unit="MONTHLY",
                               limit_amount=str(args.monthly_budget_usd), limit_unit="USD",
                               notifications=budget_notifications(self.topic_arn), tags=dict(args.tags), opts=child)
        if args.activate_app_cost_tag:
            aws.costexplorer.CostAllocationTag(f"{name}-app-cost-tag", tag_key=COST_ALLOCATION_TAG, status="Active",
                                               opts=child)
        self.register_outputs({"topic_arn": self.topic_arn, "edge_topic_arn": self.edge_topic_arn})

    def _topic(self, name: str, topic_name: str, region: str, args: StackAlertsArgs) -> pulumi.Output[str]:
        """A key, the topic it encrypts, its policy and the email subscriptions, all in `region`."""
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions(parent=self, protect=args.protect_data, retain_on_delete=args.protect_data)
        key = aws.kms.Key(f"{name}-key", description=f"Encryption of the SNS topic {topic_name}",
                          enable_key_rotation=True, deletion_window_in_days=KMS_KEY_DELETION_WINDOW_DAYS,
                          policy=self._account.apply(lambda account_id: json.dumps(
                              alert_key_policy(account_id, naming.partition_for(region)))),
                          tags=dict(args.tags), region=region, opts=kept)
        topic = aws.sns.Topic(f"{name}-topic", name=topic_name, kms_master_key_id=key.arn, region=region,
                              tags=dict(args.tags), opts=child)
        aws.sns.TopicPolicy(f"{name}-topic-policy", arn=topic.arn, region=region, opts=child,
                            policy=pulumi.Output.all(topic.arn, self._account).apply(
                                lambda values: json.dumps(alert_topic_policy(values[0], values[1], region))))
        for email in args.emails:
            aws.sns.TopicSubscription(f"{name}-email-{email_slot(email)}", topic=topic.arn, protocol="email",
                                      endpoint=email, region=region, opts=child)
        return topic.arn


@dataclass(frozen=True)
class AppAlarmsArgs:
    app_name: str
    bucket_name: str
    region: str
    alerts: AlertSettings
    topic_arn: pulumi.Input[str]
    edge_topic_arn: pulumi.Input[str] | None = None
    """Where the CDN alarm (us-east-1) notifies; default: `topic_arn`."""
    storage_classes: tuple[str, ...] = ("STANDARD",)
    """Every storage class the bucket may hold (STANDARD and the lifecycle's transitions)."""
    distribution_id: pulumi.Input[str] | None = None
    replica_bucket_name: str | None = None
    replication_rule_id: str = ""
    replication_time_control: bool = False
    budget_name: str = ""
    bucket_resource: pulumi.Resource | None = None
    """The app's bucket (its SecureBucket), waited for before the metric configuration is put: the configuration
    names the bucket by its plain name, which carries no dependency. Default: none (the bucket exists)."""
    tags: Mapping[str, str] = field(default_factory=dict)


def storage_queries(bucket_name: str, storage_classes: tuple[str, ...]
                    ) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgsDict]:
    """`BucketSizeBytes` of every storage type the bucket can hold, summed: S3 reports one series per type, and no
    alarm may use a SEARCH expression, so the types are named, and SUM([...]) skips the ones without data."""
    types = [t for cls in ("STANDARD", *storage_classes) for t in STORAGE_TYPES.get(cls, ())]
    types = list(dict.fromkeys(types))
    if len(types) + 1 > MAX_ALARM_METRICS:  # many classes: each class's main type (the overheads are small)
        types = list(dict.fromkeys(STORAGE_TYPES[cls][0] for cls in ("STANDARD", *storage_classes)
                                   if cls in STORAGE_TYPES))
    queries: list[aws.cloudwatch.MetricAlarmMetricQueryArgsDict] = [
        {"id": f"s{index}", "return_data": False, "label": storage_type, "metric": {
            "namespace": "AWS/S3", "metric_name": "BucketSizeBytes", "period": ONE_DAY, "stat": "Average",
            "dimensions": {"BucketName": bucket_name, "StorageType": storage_type}}}
        for index, storage_type in enumerate(types)]
    ids = ",".join(f"s{index}" for index in range(len(types)))
    queries.append({"id": "total", "expression": f"SUM([{ids}])",
                    "label": "Bytes stored, all storage types", "return_data": True})
    return queries


def error_rate_queries(bucket_name: str, metric_name: str) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgsDict]:
    """`100 * <errors> / AllRequests` over five minutes, from the bucket's request metrics."""
    def request_metric(query_id: str, name: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgsDict:
        return {"id": query_id, "return_data": False, "metric": {
            "namespace": "AWS/S3", "metric_name": name, "period": FIVE_MINUTES, "stat": "Sum",
            "dimensions": {"BucketName": bucket_name, "FilterId": REQUEST_METRICS_FILTER_ID}}}
    return [request_metric("errors", metric_name), request_metric("requests", "AllRequests"),
            {"id": "rate", "expression": "100 * errors / requests", "label": f"{metric_name} per 100 requests",
             "return_data": True}]


class AppAlarms(pulumi.ComponentResource):
    alarm_names: list[str]

    def __init__(self, name: str, args: AppAlarmsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("app-storage:index:AppAlarms", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.alarm_names = []
        bucket, alerts = args.bucket_name, args.alerts
        # Request metrics (CloudWatch request metrics are off by default and billed per metric): every error-rate
        # and request-rate alarm reads them.
        waits = pulumi.ResourceOptions(parent=self, depends_on=[args.bucket_resource] if args.bucket_resource else [])
        metrics = aws.s3.BucketMetric(f"{name}-request-metrics", bucket=bucket, name=REQUEST_METRICS_FILTER_ID,
                                      region=args.region, opts=waits)
        after_metrics = pulumi.ResourceOptions(parent=self, depends_on=[metrics])

        def alarm(role: str, description: str, threshold: float, region: str | None = None,
                  topic: pulumi.Input[str] | None = None, opts: pulumi.ResourceOptions = child,
                  **kwargs) -> None:
            alarm_name = f"{bucket}-{role}"
            notify = [topic or args.topic_arn]
            aws.cloudwatch.MetricAlarm(
                f"{name}-{role}", name=alarm_name, alarm_description=description, threshold=threshold,
                comparison_operator="GreaterThanThreshold", alarm_actions=notify, ok_actions=notify,
                treat_missing_data="notBreaching", region=region or args.region, tags=dict(args.tags), opts=opts,
                **kwargs)
            self.alarm_names.append(alarm_name)

        if alerts.storage_bytes is not None:
            # Missing data: S3 reports storage once a day, and nothing for an empty bucket; neither is a breach.
            alarm("storage-bytes", f"s3://{bucket} holds more than {alerts.storage_bytes} bytes (all storage types)",
                  float(alerts.storage_bytes), evaluation_periods=1,
                  metric_queries=storage_queries(bucket, args.storage_classes))
        if alerts.requests_per_5min is not None:
            # Missing data: a bucket without requests reports no AllRequests datapoint; quiet is not busy.
            alarm("request-rate", f"s3://{bucket} served more than {alerts.requests_per_5min} requests in 5 minutes",
                  float(alerts.requests_per_5min), evaluation_periods=1, namespace="AWS/S3",
                  metric_name="AllRequests", statistic="Sum", period=FIVE_MINUTES,
                  dimensions={"BucketName": bucket, "FilterId": REQUEST_METRICS_FILTER_ID}, opts=after_metrics)
        # Missing data: no requests, no rate; two of three five-minute periods so one bad burst does not page.
        alarm("5xx-rate", f"s3://{bucket} answered over {SERVER_ERROR_RATE_PERCENT:g} % of requests with 5xx",
              SERVER_ERROR_RATE_PERCENT, evaluation_periods=3, datapoints_to_alarm=2,
              metric_queries=error_rate_queries(bucket, "5xxErrors"), opts=after_metrics)
        alarm("4xx-rate", f"s3://{bucket} answered over {CLIENT_ERROR_RATE_PERCENT:g} % of requests with 4xx",
              CLIENT_ERROR_RATE_PERCENT, evaluation_periods=3, datapoints_to_alarm=2,
              metric_queries=error_rate_queries(bucket, "4xxErrors"), opts=after_metrics)
        if args.replica_bucket_name:
            replication = {"SourceBucket": bucket, "DestinationBucket": args.replica_bucket_name,
                           "RuleId": args.replication_rule_id}
            latency = REPLICATION_LATENCY_SECONDS_RTC if args.replication_time_control else REPLICATION_LATENCY_SECONDS
            # Missing data: S3 reports replication metrics only while objects are replicating.
            alarm("replication-latency", f"s3://{bucket} replicates more than {latency} s behind", float(latency),
                  evaluation_periods=3, datapoints_to_alarm=2, namespace="AWS/S3", metric_name="ReplicationLatency",
                  statistic="Maximum", period=FIVE_MINUTES, dimensions=replication)
            alarm("replication-failed", f"s3://{bucket} failed to replicate objects", 0.0, evaluation_periods=1,
                  namespace="AWS/S3", metric_name="OperationsFailedReplication", statistic="Sum",
                  period=FIVE_MINUTES, dimensions=replication)
        if args.distribution_id is not None:
            # Missing data: a distribution without requests reports no 5xxErrorRate.
            alarm("cdn-5xx-rate", f"the CDN of s3://{bucket} answered over {CDN_5XX_ERROR_RATE_PERCENT:g} % 5xx",
                  CDN_5XX_ERROR_RATE_PERCENT, region=EDGE_REGION, topic=args.edge_topic_arn, evaluation_periods=3,
                  datapoints_to_alarm=2, namespace="AWS/CloudFront", metric_name="5xxErrorRate",
                  statistic="Average", period=FIVE_MINUTES,
                  dimensions={"DistributionId": args.distribution_id, "Region": "Global"})
        if alerts.monthly_budget_usd is not None:
            aws.budgets.Budget(f"{name}-budget", name=args.budget_name, budget_type="COST", time_unit="MONTHLY",
                               limit_amount=str(alerts.monthly_budget_usd), limit_unit="USD",
                               cost_filters=[app_cost_filter(args.app_name)],
                               notifications=budget_notifications(args.topic_arn), tags=dict(args.tags), opts=child)
        self.register_outputs({"alarm_names": self.alarm_names})
