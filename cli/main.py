"""The command-line entry behind the make targets: `python -m cli <verb>`.

Verbs: `plan` (evaluate a stack offline; with `--base`, the change from a deployed plan), `env` (write an app's
`.env` from the stack outputs), `policy`, `verify`, `alerts` (a minio stack's Prometheus rules) and `bench` (the
performance budgets).
Exit codes: 0 fine, 1 `plan --base` found a hazard, 2 the stack's config, outputs or file have problems (messages on
stderr, no traceback; `env` leaves the file untouched).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import signal
import sys
import types
from collections.abc import Callable
from pathlib import Path

from cli.offline import MASK, PROJECT_ROOT, Plan, RecordedResource, StackFileError, evaluate_stack
from cli.stack_outputs import OutputsError, app_connection, app_names, connection_of, read_outputs
from components import dialects
from components.messages import one_line
from components.settings.types import SettingsError

EXIT_CONFIG = 2
EXIT_HAZARDS = 1
"""`plan --base`: the change from the deployed plan has hazards; `adopt`: something will be lost or fail."""
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as a shell reports a command ended by Ctrl-C."""


def _policy_sids(inputs: dict) -> str:
    try:
        statements = json.loads(inputs.get("policy", "{}")).get("Statement", [])
    except (TypeError, ValueError):
        return "policy not known yet"
    return "statements " + ", ".join(s.get("Sid", "?") for s in statements)


# What the tree shows of each resource type: its key settings, one short line.
def _alarm_summary(i: dict) -> str:
    """An alarm: its metric (or metric math expression), threshold, period and where it notifies."""
    queries = i.get("metricQueries") or []
    returned = next((q for q in queries if q.get("returnData")), None)
    if returned:
        names = sorted({q.get("metric", {}).get("metricName", "") for q in queries if q.get("metric")})
        metric = f"{returned.get('expression')} over {'/'.join(names)}"
        period = next((q["metric"].get("period") for q in queries if q.get("metric")), None)
    else:
        metric, period = f"{i.get('namespace')} {i.get('metricName')} {i.get('statistic')}", i.get("period")
    notify = ", ".join(str(arn).rsplit(":", 1)[-1] for arn in i.get("alarmActions", []))
    return (f"{metric} > {i.get('threshold'):g} per {period}s ({i.get('region') or 'stack region'}) "
            f"missing={i.get('treatMissingData')} notifies {notify}")


def _budget_summary(i: dict) -> str:
    """A budget: its limit, the tag filter (an app's), and the notifications with what they compare."""
    filters = "".join(f" {f.get('values', [''])[0]}" for f in i.get("costFilters", []))
    notified = ", ".join(f"{n.get('threshold'):g}% {n.get('notificationType')}" for n in i.get("notifications", []))
    return (f"{i.get('name')} {i.get('limitAmount')} {i.get('limitUnit')}/{str(i.get('timeUnit', '')).lower()}"
            f"{filters} notifies {notified} to the alert topic")


_SUMMARIES: dict[str, Callable[[dict], str]] = {
    "aws:s3/bucket:Bucket": lambda i: f"bucket={i.get('bucket')} forceDestroy={i.get('forceDestroy')}",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": lambda i: i.get("rule", {}).get("objectOwnership", ""),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": lambda i: "all four blocks on" if all(
        i.get(k) for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    ) else "PUBLIC ACCESS ALLOWED",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": lambda i: ", ".join(
        f"{r['applyServerSideEncryptionByDefault']['sseAlgorithm']} bucketKey={r.get('bucketKeyEnabled', False)}"
        for r in i.get("rules", [])),
    "aws:s3/bucketVersioning:BucketVersioning": lambda i: i.get("versioningConfiguration", {}).get("status", ""),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": lambda i: "rules " + ", ".join(
        r.get("id", "?") for r in i.get("rules", [])),
    "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration": lambda i: "origins " + ", ".join(
        o for r in i.get("corsRules", []) for o in r.get("allowedOrigins", [])),
    "aws:s3/bucketPolicy:BucketPolicy": _policy_sids,
    "aws:kms/key:Key": lambda i: f"rotation={i.get('enableKeyRotation', False)}",
    "aws:kms/alias:Alias": lambda i: i.get("name", ""),
    "aws:iam/user:User": lambda i: f"{i.get('path', '/')}{i.get('name', '')}",
    "aws:iam/group:Group": lambda i: f"{i.get('path', '/')}{i.get('name', '')}",
    "aws:iam/groupPolicy:GroupPolicy": _policy_sids,
    "aws:iam/userGroupMembership:UserGroupMembership": lambda i: "groups " + ", ".join(i.get("groups", [])),
    "aws:iam/accessKey:AccessKey": lambda i: f"user={i.get('user')} (secret kept as a Pulumi secret)",
    "aws:iam/role:Role": lambda i: f"{i.get('path', '/')}{i.get('name', '')}",
    "aws:iam/rolePolicy:RolePolicy": _policy_sids,
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": lambda i: "; ".join(
        f"{r.get('id')} -> {r.get('destination', {}).get('bucket')} {r.get('destination', {}).get('storageClass')}"
        f" deleteMarkers={r.get('deleteMarkerReplication', {}).get('status')}" for r in i.get("rules", [])),
    "pulumi:providers:aws": lambda i: f"region={i.get('region')}",
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm_summary,
    "aws:s3/bucketMetric:BucketMetric": lambda i: f"request metrics {i.get('name')} (whole bucket)",
    "aws:budgets/budget:Budget": _budget_summary,
    "aws:sns/topic:Topic": lambda i: f"{i.get('name')} kms={'yes' if i.get('kmsMasterKeyId') else 'NO'}",
    "aws:sns/topicSubscription:TopicSubscription": lambda i: f"{i.get('protocol')} {i.get('endpoint')}",
    "aws:costexplorer/costAllocationTag:CostAllocationTag": lambda i: f"{i.get('tagKey')} {i.get('status')}",
    "aws:cloudfront/distribution:Distribution": lambda i: "serves " + ", ".join(
        b.get("pathPattern", "") for b in i.get("orderedCacheBehaviors", [])) + f" {i.get('priceClass')}"
        + (f" aliases={','.join(i['aliases'])}" if i.get("aliases") else ""),
    "aws:cloudfront/originAccessControl:OriginAccessControl": lambda i: (
        f"{i.get('signingProtocol')} {i.get('signingBehavior')}"),
    "aws:cloudfront/function:Function": lambda i: i.get("comment", ""),
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": lambda i: ", ".join(["HSTS, nosniff", *(
        f"{h['header']}: {h['value']}" for h in i.get("customHeadersConfig", {}).get("items", []))]),
    "minio:index/s3Bucket:S3Bucket": lambda i: f"bucket={i.get('bucket')} acl={i.get('acl')} "
                                               f"forceDestroy={i.get('forceDestroy')}",
    "minio:index/s3BucketVersioning:S3BucketVersioning": lambda i: i.get("versioningConfiguration", {}).get(
        "status", ""),
    "minio:index/s3BucketServerSideEncryption:S3BucketServerSideEncryption": lambda i: (
        f"{i.get('encryptionType')} key={i.get('kmsKeyId')}"),
    "minio:index/ilmPolicy:IlmPolicy": lambda i: "rules " + ", ".join(r.get("id", "?") for r in i.get("rules", [])),
    "minio:index/s3BucketPolicy:S3BucketPolicy": _policy_sids,
    "minio:index/iamPolicy:IamPolicy": lambda i: f"{i.get('name', '')}: {_policy_sids(i)}",
    "minio:index/iamUser:IamUser": lambda i: f"{i.get('name', '')} (secret kept as a Pulumi secret)",
    "minio:index/iamUserPolicyAttachment:IamUserPolicyAttachment": lambda i: (
        f"{i.get('policyName')} -> {i.get('userName')}"),
}


def _describe(resource: RecordedResource) -> str:
    summary = _SUMMARIES.get(resource.type, lambda _: "")(resource.inputs)
    flags = [flag for flag, on in (("adopted: imported, not created", "import" in resource.options),
                                   ("protected", resource.options["protect"]),
                                   ("retained on delete", resource.options["retainOnDelete"])) if on]
    text = f"{resource.type}  {resource.name}"
    if summary:
        text += f"  {summary}"
    if flags:
        text += f"  [{', '.join(flags)}]"
    return text


def render_tree(plan: Plan) -> list[str]:
    lines: list[str] = []

    def walk(parent: str | None, indent: str) -> None:
        children = [r for r in plan.resources if (r.parent if r.parent in urns else None) == parent]
        for index, child in enumerate(children):
            last = index == len(children) - 1
            lines.append(f"{indent}{'└─ ' if last else '├─ '}{_describe(child)}")
            walk(child.urn, indent + ("   " if last else "│  "))

    urns = {r.urn for r in plan.resources}
    walk(None, "")
    return lines


def render_text(plan: Plan) -> str:
    custom = sum(1 for r in plan.resources if r.custom)
    lines = [f"stack {plan.stack}: {custom} resources in {len(plan.resources) - custom} components", ""]
    if plan.warnings:
        lines += ["warnings:", *(f"  - {warning}" for warning in plan.warnings), ""]
    lines += render_tree(plan)
    lines += ["", "connections and .env (secrets shown as " + MASK + "):"]
    for app in app_names(plan.outputs):
        outputs, connection = plan.outputs[app], connection_of(plan.outputs, app) or {}
        lines.append(f"  {app}:")
        lines += [f"    {key}: {json.dumps(value)}" for key, value in connection.items()]
        if outputs.get("dialect") in dialects.DIALECTS:
            values = dialects.render_env(outputs["dialect"], connection)
            lines.append(f"    .env ({outputs['dialect']}):")
            lines += [f"      {name}={value}" for name, value in values.items()]
    return "\n".join(lines)


def plan_command(args: argparse.Namespace) -> int:
    change: types.ModuleType | None = None
    if args.base:
        change = importlib.import_module("cli.change")  # the change model loads for `--base` only
    errors = (StackFileError, *((change.ChangeError,) if change else ()))
    try:
        base = change.read_base(args.base, args.stack) if change else None
        plan = evaluate_stack(args.stack, show_secrets=args.show_secrets, stack_file=args.stack_file)
    except SettingsError as error:
        print(str(error), file=sys.stderr)  # a header line, then one escaped line per problem
        return EXIT_CONFIG
    except errors as error:
        print(one_line(str(error)), file=sys.stderr)
        return EXIT_CONFIG
    if change is not None:
        result = change.compare(base, plan.as_dict(), plan.stack)
        print(json.dumps(result.as_dict(), indent=2) if args.json else change.render_change(result, str(args.base)))
        return EXIT_HAZARDS if result.hazards else 0
    if args.no_policy:
        print(json.dumps(plan.as_dict(), indent=2) if args.json else render_text(plan))
        return 0
    report, summary = _policy_summary(plan)
    if args.json:
        print(json.dumps({**plan.as_dict(), "policy": report}, indent=2))
    else:
        print(render_text(plan) + "\n\n" + summary)
    return 0


def _policy_summary(plan: Plan) -> tuple[dict, str]:
    """The policy report a plan shows, as JSON and as text: the pack's rules run in-process on the same evaluation,
    with `make policy`'s verdicts (it never fails the plan)."""
    from cli import policy

    try:
        report = policy.check_in_process(plan)
    except policy.PolicyError as error:
        return {"error": one_line(str(error))}, f"policy: not checked ({one_line(str(error))})"
    lines = [report.summary()] + [f"  [{v.level}] {v.policy}: {v.message}" for v in report.mandatory]
    if report.mandatory:
        lines.append(f"  `make policy STACK={plan.stack}` fails on these; it shows every violation with its fix")
    return report.as_dict(), "\n".join(lines)


@contextlib.contextmanager
def _cleanup_on_termination():
    """SIGTERM or SIGHUP mid-write unwinds like Ctrl-C, so the temporary file is removed, never left behind."""
    def unwind(signum, _frame):
        raise SystemExit(128 + signum)
    previous = {sig: signal.signal(sig, unwind) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def env_command(args: argparse.Namespace) -> int:
    out: Path = args.out
    try:
        connection, configured_dialect = app_connection(read_outputs(args.stack, args.from_file), args.stack,
                                                        args.app)
        dialect = args.dialect or configured_dialect
        if not dialect:
            raise OutputsError(f"the outputs of app {args.app!r} name no dialect; set DIALECT=<one of: "
                               f"{', '.join(dialects.DIALECTS)}>")
        from cli import env_file

        with _cleanup_on_termination():
            values, changes = env_file.update_env_file(out, dialect, connection, args.stack, args.app, args.dry_run,
                                                     force=args.force)
    except (OutputsError, ValueError, OSError) as error:
        print(f"make env: {error}; {out} was left untouched", file=sys.stderr)
        return EXIT_CONFIG
    secrets = dialects.secret_names(dialect, connection)
    verb = "would write" if args.dry_run else "wrote"
    print(f"{verb} {out} (mode 0600): app {args.app} on stack {args.stack}, {dialect} dialect")
    for line in changes:
        shown = MASK if line.name in secrets else values.get(line.name, "")
        print(f"  {line.kind:<9}  {line.name}" + (f"={shown}" if line.name in values else ""))
    note = dialects.presign_note(dialect, connection)
    if note:
        print(f"note: {note}")
    return 0


def policy_command(args: argparse.Namespace) -> int:
    from cli import policy

    try:
        plan = evaluate_stack(args.stack, root=args.dir, stack_file=args.stack_file)
        report = policy.check_stack(plan, args.config, args.pack or policy.PACK_DIR)
    except SettingsError as error:
        print(str(error), file=sys.stderr)
        return EXIT_CONFIG
    except (StackFileError, policy.PolicyError) as error:
        print(one_line(str(error)), file=sys.stderr)
        return EXIT_CONFIG
    print(json.dumps(report.as_dict(), indent=2) if args.json else policy.render_report(report))
    return policy.EXIT_VIOLATIONS if report.mandatory else 0


def _seconds(text: str) -> float:
    """A non-negative number of seconds (a command-line value)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds")
    return seconds


def _positive_seconds(text: str) -> float:
    """A number of seconds above 0 (an interval between two reads)."""
    seconds = _seconds(text)
    if seconds == 0:
        raise argparse.ArgumentTypeError("give the seconds between two reads, more than 0")
    return seconds


def verify_command(args: argparse.Namespace) -> int:
    from cli import verify  # boto3 and its clients load for this verb only

    skip = tuple(name.strip() for name in (args.skip or "").split(",") if name.strip())
    unknown = [name for name in skip if name not in verify.SKIPPABLE]
    try:
        if unknown:
            raise verify.VerifyError(f"SKIP={','.join(unknown)}: only {', '.join(verify.SKIPPABLE)} can be skipped")
        target, _ = verify.read_target(args.env, args.dialect, args.stack, args.from_file, args.app)
        declared = None
        if args.admin:
            if not args.stack:
                raise verify.VerifyError("ADMIN=1 compares the live bucket with what the stack declares: give STACK=")
            declared = verify.declared_settings(args.stack, target.bucket)
        with _cleanup_on_termination():
            report = verify.verify(
                target, skip, {} if args.admin else None, declared,
                replication_timeout=verify.REPLICATION_TIMEOUT_SECONDS if args.replication_timeout is None
                else args.replication_timeout,
                replication_poll=verify.REPLICATION_POLL_SECONDS if args.replication_poll is None
                else args.replication_poll)
    except (verify.VerifyError, SettingsError, StackFileError) as error:
        print(f"make verify: {one_line(str(error))}", file=sys.stderr)
        return EXIT_CONFIG
    except (verify.botocore.exceptions.BotoCoreError, ValueError) as error:  # a client that cannot be set up
        print(f"make verify: the S3 client cannot be set up: {one_line(verify.without_credentials(str(error)))}",
              file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        print("make verify: interrupted (Ctrl-C); no verdict, the run's scratch objects were removed", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SystemExit as stop:  # SIGTERM or SIGHUP, raised by _cleanup_on_termination as 128 + the signal
        print(f"make verify: stopped by signal {int(stop.code or 0) - 128}; no verdict, the run's scratch objects "
              "were removed", file=sys.stderr)
        return int(stop.code or 0)
    print(json.dumps(report.as_dict(), indent=2) if args.json else verify.render_table(report))
    return 1 if report.overall_status == "failing" else 0


def _alerts_command(args: argparse.Namespace) -> int:
    from cli.alerts import alerts_command  # the rule renderer and its YAML load for `alerts` only

    return alerts_command(args)


def adopt_command(args: argparse.Namespace) -> int:
    from cli import adopt  # boto3 and its clients load for this verb only

    try:
        report = adopt.preflight(args.stack, args.app, stack_file=args.stack_file)
    except SettingsError as error:
        print(str(error), file=sys.stderr)
        return EXIT_CONFIG
    except (adopt.AdoptError, StackFileError) as error:
        print(f"make adopt: {one_line(str(error))}", file=sys.stderr)
        return EXIT_CONFIG
    print(json.dumps(report.as_dict(), indent=2) if args.json else adopt.render(report))
    return EXIT_HAZARDS if report.hazards else 0


def bench_command(args: argparse.Namespace) -> int:
    from cli import bench

    return bench.main(args.repeat if args.repeat is not None else bench.DEFAULT_REPEAT,
                      bench.LARGE_APPS if args.large_apps is None else args.large_apps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="app-storage", description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    plan = verbs.add_parser("plan", help="evaluate a stack offline and print its resources and connections")
    plan.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    plan.add_argument("--stack-file", type=Path, help="read the config from this file instead")
    plan.add_argument("--json", action="store_true", help="print only JSON on stdout")
    plan.add_argument("--show-secrets", action="store_true", help="print secret values instead of masking them")
    plan.add_argument("--no-policy", action="store_true", help="skip the policy pack's summary")
    plan.add_argument("--base", type=Path,
                      help="the plan JSON of what is deployed: print the steps `pulumi up` would take from it, in the "
                           "engine's order, and exit 1 on a hazard")
    plan.set_defaults(run=plan_command)
    env = verbs.add_parser("env", help="write an app's .env from the stack outputs, merged into the file")
    env.add_argument("--stack", required=True, help="the stack whose outputs to read")
    env.add_argument("--app", help="the app (a key of the stack outputs)")
    env.add_argument("--dialect", help="variable names to use; default: the app's own")
    env.add_argument("--out", type=Path, default=Path(".env"), help="the .env file to write or merge into")
    env.add_argument("--from", dest="from_file", type=Path,
                     help="read the outputs from this JSON file (pulumi stack output --json --show-secrets, or "
                          "an offline plan) instead of the Pulumi CLI")
    env.add_argument("--dry-run", action="store_true", help="print the change, secrets masked; write nothing")
    env.add_argument("--force", action="store_true", help="replace a read-only .env (it stays 0600 afterwards)")
    env.set_defaults(run=env_command)
    check = verbs.add_parser("policy", help="check a stack with the policy pack, offline, over the engine's "
                                            "Analyzer protocol; exit 1 on a mandatory violation")
    check.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml of the program")
    check.add_argument("--dir", type=Path, default=PROJECT_ROOT,
                       help="the Pulumi Python program to check (its Pulumi.yaml and Pulumi.<stack>.yaml apply); "
                            "default: this project")
    check.add_argument("--stack-file", type=Path, help="read the stack config from this file instead")
    check.add_argument("--config", type=Path,
                       help="policy pack config (as --policy-pack-config); default: policies/<stack>.json")
    check.add_argument("--pack", type=Path, default=None, help="the policy pack directory; default: policies/")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.set_defaults(run=policy_command)
    live = verbs.add_parser("verify", help="check the provisioned storage live, as the app uses it, from its .env")
    live.add_argument("--env", type=Path, required=True, help="the app's .env (any dialect)")
    live.add_argument("--dialect", help="the .env's dialect; default: detected from its variables")
    live.add_argument("--stack", help="read the areas, public URL and CORS origins from this stack's outputs")
    live.add_argument("--from", dest="from_file", type=Path, help="the stack outputs from this JSON file instead")
    live.add_argument("--app", help="the app in the outputs; default: the one whose bucket the .env names")
    live.add_argument("--admin", action="store_true",
                      help="also compare the live bucket with the stack's declaration, with the admin credentials "
                           "of the environment (boto3's default chain)")
    live.add_argument("--skip", help="checks to skip, comma-separated (listing-limited-to-areas, replication)")
    live.add_argument("--json", action="store_true", help="print the health report as JSON")
    live.add_argument("--replication-timeout", type=_seconds, default=None, metavar="SECONDS",
                      help="how long the `replication` check waits for S3 to replicate its scratch object "
                           "(default: 900, the 15 minutes S3 RTC promises)")
    live.add_argument("--replication-poll", type=_positive_seconds, default=None, metavar="SECONDS",
                      help="between two reads of the scratch object's replication status (default: 5)")
    live.set_defaults(run=verify_command)
    rules = verbs.add_parser("alerts", help="write the Prometheus alerting rules of a minio stack's buckets")
    rules.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    rules.add_argument("--stack-file", type=Path, help="read the config from this file instead")
    rules.add_argument("--out", type=Path, help="the rule file to write; default: stdout")
    rules.set_defaults(run=_alerts_command)
    preflight = verbs.add_parser("adopt", help="read an existing bucket an app adopts and print what the first "
                                               "`pulumi up` will change; exit 1 when something is lost or fails")
    preflight.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    preflight.add_argument("--app", required=True, help="the app whose bucket (apps.<app>.bucketName) is adopted")
    preflight.add_argument("--stack-file", type=Path, help="read the config from this file instead")
    preflight.add_argument("--json", action="store_true", help="print the findings as JSON")
    preflight.set_defaults(run=adopt_command)
    bench_verb = verbs.add_parser("bench", help="time offline evaluation against the bare SDK (the budgets)")
    bench_verb.add_argument("--repeat", type=int, default=None,
                            help="measured (program, bare SDK) pairs per stack (default 15); best times, median ratio")
    bench_verb.add_argument("--large-apps", type=int, default=None,
                            help="apps of the large stack measured beside its bare replay (default 1000; 0 skips it)")
    bench_verb.set_defaults(run=bench_command)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
