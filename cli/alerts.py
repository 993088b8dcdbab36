"""`make alerts`: the Prometheus alerting rules of a minio stack's buckets, as a rule file.

The rules come from `components.minio.alert_rules` (pure, from the settings); this verb only reads the stack's config
as `make plan` does (no program run, no mock runtime) and writes YAML. `promtool check rules <file>` accepts it.
"""

from __future__ import annotations

import argparse
import sys

import yaml

from cli.env_file import replace_file
from cli.offline import PROJECT_ROOT, StackFileError, load_stack_config, project_name
from components.messages import one_line
from components.minio.alert_rules import METRICS_PATH, MINIO_RELEASE, alert_rules
from components.settings.gate import parse_settings
from components.settings.types import SettingsError

EXIT_CONFIG = 2


def render(rules: dict, stack: str) -> str:
    header = (f"# Prometheus alerting rules for the MinIO buckets of stack {stack}, written by\n"
              f"# `make alerts STACK={stack}` from the stack's alerts settings. Metrics: MinIO v2 bucket metrics\n"
              f"# ({METRICS_PATH}) as MinIO {MINIO_RELEASE} (compose.yaml) publishes them.\n"
              "# Check: promtool check rules <this file>\n")
    return header + yaml.safe_dump(rules, sort_keys=False, width=100, allow_unicode=True)


def alerts_command(args: argparse.Namespace) -> int:
    try:
        config, _ = load_stack_config(args.stack, PROJECT_ROOT, path=args.stack_file)
        settings = parse_settings(config, project_name(PROJECT_ROOT), args.stack)
        if settings.backend != "minio":
            raise StackFileError(f"stack {args.stack} is on {settings.backend}: `make alerts` writes rules over "
                                 "MinIO's metrics, for a minio stack only")
        rules = alert_rules(settings)
        text = render(rules, args.stack)
        if args.out:
            replace_file(args.out, text, 0o644)
    except SettingsError as error:
        print(str(error), file=sys.stderr)
        return EXIT_CONFIG
    except (StackFileError, OSError) as error:
        print(f"make alerts: {one_line(str(error))}", file=sys.stderr)
        return EXIT_CONFIG
    if not args.out:
        sys.stdout.write(text)
        return 0
    count = sum(len(group["rules"]) for group in rules["groups"])
    print(f"wrote {args.out}: {count} alerting rules for {len(settings.apps)} apps of stack {args.stack}")
    return 0
