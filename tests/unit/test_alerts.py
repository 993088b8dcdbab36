"""Alerts on AWS (StackAlerts, AppAlarms): one encrypted topic, each app's alarms and budgets, nothing without alerts.

Sources (read 2026-12-01):
- SNS, "Enable compatibility between event sources from AWS services and encrypted topics"
  (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services): a service
  that publishes to an encrypted topic needs a customer managed key whose policy gives its principal
  kms:GenerateDataKey* and kms:Decrypt ("1. Use a customer managed key."; its table lists Amazon CloudWatch,
  cloudwatch.amazonaws.com); the AWS managed aws/sns key's policy cannot be changed, so it cannot.
- AWS Budgets, "Configuring Amazon SNS topic permissions for budget alerts"
  (https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html): budgets.amazonaws.com
  publishes with aws:SourceAccount and aws:SourceArn arn:aws:budgets::<account>:* conditions, and its procedure
  "To enable compatibility between AWS Budgets and encrypted Amazon SNS topics" grants the same KMS actions (Budgets
  is not in the SNS page's table).
- CloudWatch, "Using Amazon SNS notifications" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/
  US_SetupSNS.html) and PutMetricAlarm (TreatMissingData notBreaching; Metrics for metric math alarms).
- S3, "Monitoring metrics with Amazon CloudWatch" (BucketSizeBytes per StorageType, daily; request metrics
  AllRequests, 4xxErrors, 5xxErrors per FilterId, once configured) and "Monitoring progress with replication
  metrics" (ReplicationLatency, OperationsFailedReplication per SourceBucket, DestinationBucket, RuleId; enabled
  on a rule without RTC); the S3 API's Metrics type: EventThreshold "Required: No".
- CloudFront, "Monitor CloudFront metrics with Amazon CloudWatch" (https://docs.aws.amazon.com/AmazonCloudFront/
  latest/DeveloperGuide/monitoring-using-cloudwatch.html): 5xxErrorRate with DistributionId and Region=Global; "If
  you create an alarm from the CloudWatch console, you must use the same Region. Because CloudFront is a global
  service, metrics for the service are sent to US East (N. Virginia)." So the CDN alarm lives in us-east-1. That an
  alarm must notify a topic of its own region is not on an AWS page (PutMetricAlarm only shows
  arn:aws:sns:region:account-id:name): the us-east-1 topic is a precaution.
- Budgets cost filters: TagKeyValue values `user:<tag key>$<tag value>` for a user-defined cost allocation tag.
"""

from __future__ import annotations

import json

import pytest

from cli.offline import evaluate, run_main
from components.aws.alerts import (
    MAX_ALARM_METRICS,
    STORAGE_TYPES,
    app_cost_filter,
    storage_queries,
)
from tests.helpers import as_config, settings_for, stack_values

APPS = ("chat", "eventhorizon", "vista")
S3_KINDS = {"storage-bytes", "request-rate", "5xx-rate", "4xx-rate", "replication-latency", "replication-failed"}


def of_type(plan, token: str) -> list:
    return [r for r in plan.resources if r.type == token]


def alarms_of(plan, app: str) -> dict:
    prefix = f"{app}-alarms-"
    return {r.name[len(prefix):]: r for r in of_type(plan, "aws:cloudwatch/metricAlarm:MetricAlarm")
            if r.name.startswith(prefix)}


@pytest.fixture(scope="module")
def elsewhere_plan():
    """Prod in eu-west-1 (so a second topic in us-east-1), chat with a budget of its own."""
    values = stack_values("prod")
    values["aws:region"] = "eu-west-1"
    values["app-storage:alerts"] = {k: v for k, v in values["app-storage:alerts"].items()
                                    if k != "appMonthlyBudgetUsd"}
    apps = json.loads(json.dumps(values["app-storage:apps"]))
    apps["chat"]["alerts"] = {"monthlyBudgetUsd": 25}
    values["app-storage:apps"] = apps
    return evaluate("prod", as_config(values), run_main, region="eu-west-1")


def test_prod_has_one_topic_encrypted_with_a_key_cloudwatch_and_budgets_may_use(prod_plan):
    """One topic, with a customer key (not aws/sns, which the publishers cannot use: SNS key management page); the
    key lets cloudwatch.amazonaws.com and budgets.amazonaws.com GenerateDataKey*/Decrypt; Budgets documents
    aws:SourceAccount on its KMS requests ("Configuring Amazon SNS topic permissions for budget alerts"), CloudWatch's
    statement carries none (SNS Developer Guide, "Enable compatibility between event sources from AWS services and
    encrypted topics")."""
    [topic] = of_type(prod_plan, "aws:sns/topic:Topic")
    keys = {r.name: r for r in of_type(prod_plan, "aws:kms/key:Key")}
    key = keys["stack-alerts-key"]
    assert topic.inputs["kmsMasterKeyId"].endswith(key.id) and "alias/aws/sns" not in topic.inputs["kmsMasterKeyId"]
    assert key.inputs["enableKeyRotation"] is True and key.inputs["deletionWindowInDays"] == 30
    assert key.options["protect"] is True
    statements = json.loads(key.inputs["policy"])["Statement"]
    by_service = {s["Principal"]["Service"]: s for s in statements if "Service" in s["Principal"]}
    assert set(by_service) == {"cloudwatch.amazonaws.com", "budgets.amazonaws.com"}
    for statement in by_service.values():
        assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    # Only where AWS documents the service sends it: a condition CloudWatch does not send would drop every alarm.
    assert by_service["budgets.amazonaws.com"]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert "Condition" not in by_service["cloudwatch.amazonaws.com"]
    assert not key.inputs.get("bypassPolicyLockoutSafetyCheck")


def test_the_topic_policy_lets_the_publishers_in_for_this_account_and_refuses_plain_http(prod_plan):
    """Budgets documents aws:SourceAccount and aws:SourceArn (arn:aws:budgets::<account>:*) on its statement;
    CloudWatch alarms publish as cloudwatch.amazonaws.com from alarm ARNs of the account and region."""
    [policy] = of_type(prod_plan, "aws:sns/topicPolicy:TopicPolicy")
    [topic] = of_type(prod_plan, "aws:sns/topic:Topic")
    document = json.loads(policy.inputs["policy"])
    sids = {s["Sid"]: s for s in document["Statement"]}
    account = sids["BudgetsPublish"]["Condition"]["StringEquals"]["aws:SourceAccount"]
    assert sids["BudgetsPublish"]["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:budgets::{account}:*"
    assert sids["CloudWatchAlarmsPublish"]["Condition"]["ArnLike"]["aws:SourceArn"].startswith(
        f"arn:aws:cloudwatch:us-east-1:{account}:alarm:")
    assert all(s["Action"] == "sns:Publish" for k, s in sids.items() if k.endswith("Publish"))
    deny = sids["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert {s["Resource"] for s in document["Statement"]} == {policy.inputs["arn"]}
    assert policy.inputs["arn"].endswith(":" + topic.inputs["name"])


def test_each_email_is_an_email_subscription_and_the_topic_arn_is_a_stack_output(prod_plan):
    [subscription] = of_type(prod_plan, "aws:sns/topicSubscription:TopicSubscription")
    assert (subscription.inputs["protocol"], subscription.inputs["endpoint"]) == ("email",
                                                                                  "storage-alerts@example.com")
    assert prod_plan.outputs["alerts_topic_arn"] == subscription.inputs["topic"]


def test_every_app_has_each_alert_kind_notifying_the_one_topic_with_missing_data_not_breaching(prod_plan):
    """Alarm and OK actions name the topic; a quiet bucket reports no datapoints and is not an outage."""
    topic = prod_plan.outputs["alerts_topic_arn"]
    for app in APPS:
        alarms = alarms_of(prod_plan, app)
        expected = S3_KINDS | ({"cdn-5xx-rate"} if app != "chat" else set())  # chat has no public area, no CDN
        assert set(alarms) == expected, app
        for alarm in alarms.values():
            assert alarm.inputs["alarmActions"] == [topic] == alarm.inputs["okActions"]
            assert alarm.inputs["treatMissingData"] == "notBreaching"


def test_storage_alarm_sums_every_storage_type_daily_over_the_threshold(prod_plan):
    alarm = alarms_of(prod_plan, "vista")["storage-bytes"]
    assert alarm.inputs["threshold"] == 500e9
    queries = alarm.inputs["metricQueries"]
    types = {q["metric"]["dimensions"]["StorageType"] for q in queries if "metric" in q}
    assert {"StandardStorage", "StandardIAStorage", "GlacierStorage"} <= types
    assert all(q["metric"]["period"] == 86400 and q["metric"]["metricName"] == "BucketSizeBytes"
               for q in queries if "metric" in q)
    [total] = [q for q in queries if q.get("returnData")]
    assert total["expression"].startswith("SUM([") and len(queries) <= MAX_ALARM_METRICS


def test_storage_queries_stay_within_an_alarms_metric_limit_for_every_storage_class():
    """PutMetricAlarm takes at most 10 metrics: with every class, each class's main storage type is summed."""
    queries = storage_queries("b", tuple(STORAGE_TYPES))
    assert len(queries) == len(STORAGE_TYPES) + 1 <= MAX_ALARM_METRICS
    assert len(storage_queries("b", ("STANDARD_IA", "GLACIER"))) == 1 + 2 + 4 + 1


def test_request_and_error_rate_alarms_read_the_whole_bucket_request_metrics(prod_plan):
    metrics = {r.name: r for r in of_type(prod_plan, "aws:s3/bucketMetric:BucketMetric")}
    assert set(metrics) == {f"{app}-alarms-request-metrics" for app in APPS}
    assert all(m.inputs["name"] == "EntireBucket" and "filter" not in m.inputs for m in metrics.values())
    alarms = alarms_of(prod_plan, "chat")
    rate = alarms["request-rate"].inputs
    assert (rate["metricName"], rate["statistic"], rate["period"], rate["threshold"]) == (
        "AllRequests", "Sum", 300, 100000)
    assert rate["dimensions"] == {"BucketName": "app-storage-prod-chat", "FilterId": "EntireBucket"}
    for kind, metric, threshold in (("5xx-rate", "5xxErrors", 1), ("4xx-rate", "4xxErrors", 10)):
        inputs = alarms[kind].inputs
        assert inputs["threshold"] == threshold
        [expression] = [q for q in inputs["metricQueries"] if q.get("returnData")]
        assert expression["expression"] == "100 * errors / requests"
        assert {q["metric"]["metricName"] for q in inputs["metricQueries"] if "metric" in q} == {metric,
                                                                                                "AllRequests"}


def test_replication_alarms_name_the_rule_and_the_rule_publishes_metrics(prod_plan):
    alarm = alarms_of(prod_plan, "chat")["replication-latency"].inputs
    assert alarm["dimensions"] == {"SourceBucket": "app-storage-prod-chat",
                                   "DestinationBucket": "app-storage-prod-chat-replica",
                                   "RuleId": "replicate-everything"}
    [config] = [r for r in of_type(prod_plan, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")
                if r.name.startswith("chat-")]
    destination = config.inputs["rules"][0]["destination"]
    assert destination["metrics"] == {"status": "Enabled"}  # no RTC in prod: no event threshold


def test_cdn_alarm_lives_in_us_east_1_on_the_distribution(prod_plan):
    alarm = alarms_of(prod_plan, "vista")["cdn-5xx-rate"].inputs
    [distribution] = [r for r in of_type(prod_plan, "aws:cloudfront/distribution:Distribution")
                      if r.name.startswith("vista-")]
    assert alarm["region"] == "us-east-1" and alarm["namespace"] == "AWS/CloudFront"
    assert alarm["dimensions"] == {"DistributionId": distribution.id, "Region": "Global"}


def test_prod_has_the_stack_budget_and_one_per_app_on_the_cost_allocation_tag(prod_plan):
    budgets = {r.name: r for r in of_type(prod_plan, "aws:budgets/budget:Budget")}
    assert set(budgets) == {"stack-alerts-budget", *(f"{app}-alarms-budget" for app in ("eventhorizon", "vista",
                                                                                      "chat"))}
    assert {budgets[f"{app}-alarms-budget"].inputs["limitAmount"] for app in ("eventhorizon", "vista", "chat")} == {
        "80"}
    inputs = budgets["stack-alerts-budget"].inputs
    assert (inputs["budgetType"], inputs["timeUnit"], inputs["limitAmount"], inputs["limitUnit"]) == (
        "COST", "MONTHLY", "200", "USD")
    notifications = {(n["notificationType"], n["threshold"]) for n in inputs["notifications"]}
    assert notifications == {("ACTUAL", 80), ("FORECASTED", 100)}
    assert all(n["subscriberSnsTopicArns"] == [prod_plan.outputs["alerts_topic_arn"]]
               for n in inputs["notifications"])
    [tag] = of_type(prod_plan, "aws:costexplorer/costAllocationTag:CostAllocationTag")
    assert tag.inputs == {"tagKey": "app-storage:app", "status": "Active"}


def test_an_app_budget_filters_on_the_active_cost_allocation_tag(elsewhere_plan):
    [tag] = of_type(elsewhere_plan, "aws:costexplorer/costAllocationTag:CostAllocationTag")
    assert tag.inputs == {"tagKey": "app-storage:app", "status": "Active"}
    budgets = {r.name: r.inputs for r in of_type(elsewhere_plan, "aws:budgets/budget:Budget")}
    assert set(budgets) == {"stack-alerts-budget", "chat-alarms-budget"}
    assert budgets["chat-alarms-budget"]["costFilters"] == [{"name": "TagKeyValue",
                                                              "values": ["user:app-storage:app$chat"]}]
    assert app_cost_filter("vista")["values"] == ["user:app-storage:app$vista"]


def test_a_stack_outside_us_east_1_gets_a_second_topic_there_for_the_cdn_alarms(elsewhere_plan):
    topics = {r.name: r for r in of_type(elsewhere_plan, "aws:sns/topic:Topic")}
    assert set(topics) == {"stack-alerts-topic", "stack-alerts-edge-topic"}
    assert topics["stack-alerts-edge-topic"].inputs["region"] == "us-east-1"
    assert topics["stack-alerts-topic"].inputs["region"] == "eu-west-1"
    edge_key = next(r for r in of_type(elsewhere_plan, "aws:kms/key:Key") if r.name == "stack-alerts-edge-key")
    assert edge_key.inputs["region"] == "us-east-1" and edge_key.inputs["enableKeyRotation"] is True
    cdn = alarms_of(elsewhere_plan, "vista")["cdn-5xx-rate"].inputs
    assert cdn["alarmActions"][0].startswith("arn:aws:sns:us-east-1:")
    assert alarms_of(elsewhere_plan, "vista")["4xx-rate"].inputs["alarmActions"][0].startswith(
        "arn:aws:sns:eu-west-1:")


def test_a_stack_without_alerts_declares_none():
    values = {k: v for k, v in stack_values("prod").items() if k != "app-storage:alerts"}
    plan = evaluate("prod", as_config(values), run_main)
    tokens = {r.type for r in plan.resources}
    assert not tokens & {"aws:sns/topic:Topic", "aws:cloudwatch/metricAlarm:MetricAlarm",
                         "aws:budgets/budget:Budget", "aws:s3/bucketMetric:BucketMetric",
                         "app-storage:index:StackAlerts", "app-storage:index:AppAlarms"}
    assert "alerts_topic_arn" not in plan.outputs
    [config] = [r for r in plan.resources if r.type.endswith("BucketReplicationConfig") and r.name.startswith("chat")]
    assert "metrics" not in config.inputs["rules"][0]["destination"]


def test_dev_on_minio_declares_no_aws_alerts(dev_plan):
    assert not [r for r in dev_plan.resources if r.type.startswith(("aws:sns", "aws:cloudwatch", "aws:budgets"))]


def test_an_app_does_not_inherit_the_stacks_budget():
    """The stack's monthlyBudgetUsd is the whole stack's; an app's budget is its own or the stack's
    appMonthlyBudgetUsd."""
    values = stack_values("prod")
    settings = settings_for(values)
    assert settings.alerts.monthly_budget_usd == 200
    assert all(app.alerts.monthly_budget_usd == 80 for app in settings.apps)
    values["app-storage:alerts"] = {k: v for k, v in values["app-storage:alerts"].items()
                                    if k != "appMonthlyBudgetUsd"}
    assert all(app.alerts.monthly_budget_usd is None for app in settings_for(values).apps)
    assert all(app.alerts.storage_bytes == 500_000_000_000 for app in settings.apps)


def test_the_request_metric_configuration_waits_for_the_bucket(prod_plan):
    """A BucketMetric names its bucket by its plain name, which carries no dependency: AppAlarms waits for the app's
    SecureBucket explicitly, so a new app's metric configuration is never put before its bucket exists."""
    buckets = {r.inputs["bucket"]: r.urn for r in prod_plan.of_type("aws:s3/bucket:Bucket")}
    metrics = prod_plan.of_type("aws:s3/bucketMetric:BucketMetric")
    assert metrics
    for metric in metrics:
        assert buckets[metric.inputs["bucket"]] in metric.options["dependsOn"], metric.name
