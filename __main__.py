"""The app-storage program: one AppStorage per configured app, exported as that app's config."""

import pulumi

from components.app_storage import AppStorage, StackShared
from components.aws.alerts import StackAlerts, StackAlertsArgs, alert_topic_name, has_alerts, stack_budget_name
from components.aws.edge_firewall import EdgeFirewall, EdgeFirewallArgs
from components.aws.log_bucket import LogBucket, log_bucket_args_by_region
from components.naming import secret_output_name, web_acl_name
from components.settings.gate import load_settings

settings = load_settings()
for warning in settings.warnings:
    pulumi.log.warn(warning)

# One web ACL for every distribution of the stack (`cdn.waf: managed`).
web_acl_arn = None
if settings.backend == "aws" and settings.cdn is not None and settings.cdn.waf == "managed":
    firewall = EdgeFirewall("edge-firewall", EdgeFirewallArgs(
        web_acl_name=web_acl_name(settings.bucket_prefix), tags={"app-storage:stack": settings.stack, **settings.tags}))
    web_acl_arn = firewall.web_acl_arn

# One access-log bucket per region the stack uses (S3 delivers server access logs only within a region).
log_buckets = {region: LogBucket(f"log-bucket-{region}", log_args)
               for region, log_args in log_bucket_args_by_region(settings).items()}
if log_buckets:
    pulumi.export("log_buckets", {region: log_bucket.target_bucket for region, log_bucket in log_buckets.items()})

# One encrypted SNS topic for every alarm and budget of the stack (aws, with any alert configured).
alert_topic_arn = edge_alert_topic_arn = None
if settings.backend == "aws" and has_alerts(settings):
    stack_alerts = StackAlerts("stack-alerts", StackAlertsArgs(
        topic_name=alert_topic_name(settings.bucket_prefix), region=settings.region, emails=settings.alerts.emails,
        monthly_budget_usd=settings.alerts.monthly_budget_usd, budget_name=stack_budget_name(settings.bucket_prefix),
        activate_app_cost_tag=any(app.alerts.monthly_budget_usd is not None for app in settings.apps),
        edge_topic=settings.cdn is not None, protect_data=settings.protect_data,
        tags={"app-storage:stack": settings.stack, **settings.tags}))
    alert_topic_arn, edge_alert_topic_arn = stack_alerts.topic_arn, stack_alerts.edge_topic_arn
    pulumi.export("alerts_topic_arn", alert_topic_arn)

shared = StackShared(web_acl_arn=web_acl_arn, log_buckets=log_buckets, alert_topic_arn=alert_topic_arn,
                     edge_alert_topic_arn=edge_alert_topic_arn)
for app in settings.apps:
    storage = AppStorage.of_stack(app, settings, shared)
    pulumi.export(app.name, storage.outputs())
    for key, value in storage.secret_outputs().items():
        pulumi.export(secret_output_name(app.name, key), value)
