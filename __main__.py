"""The app-storage program: one AppStorage per configured app, exported as that app's config."""

import pulumi

from components.app_storage import AppStorage
from components.aws.edge_firewall import EdgeFirewall, EdgeFirewallArgs
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

for app in settings.apps:
    storage = AppStorage(app.name, app, settings, web_acl_arn=web_acl_arn)
    pulumi.export(app.name, storage.outputs())
    for key, value in storage.secret_outputs().items():
        pulumi.export(secret_output_name(app.name, key), value)
