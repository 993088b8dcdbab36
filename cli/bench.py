"""`make bench`: the performance budgets (README, Budgets), measured (not asserted by tests).

For the prod stack and synthetic stacks of 1, 10 and 100 apps it times the offline evaluation of the
real program (settings gate + components) and the bare SDK registering the very same resources (same
types, names, inputs, options and property dependencies, no components, no settings) under the same mocks, and
prints the ratio.
It runs `plan --stack prod` as a user would, with and without its policy summary, beside a process that replays
the same resources through the bare SDK (whole processes, alternating, medians); and a 1,000-app stack beside its
bare replay, each in a process of its own (CPU time, peak memory, per resource), with the 100-app stack's figures
per resource, so what grows with the stack is told apart from what the SDK itself grows.
"""

from __future__ import annotations

import gc
import importlib
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pulumi

from cli import policy
from cli.offline import PROJECT_ROOT, Plan, evaluate, load_stack_config, run_main, to_config_text

RATIO_BUDGET = 1.2
PLAN_RATIO_BUDGET = 1.2
"""`plan --stack prod --no-policy` over the bare replay process."""
PLAN_WITH_SUMMARY_RATIO_BUDGET = 1.3
"""`plan --stack prod` (its policy summary in-process) over the bare replay process."""
LARGE_APPS = 1_000
LARGE_PAIRS = 3
"""Pairs of 1,000-app processes (about four minutes a pair): one pair's ratio varies by a few hundredths."""
LARGE_RATIO_BUDGET = 1.1
"""The 1,000-app program over its bare replay, in CPU time and in peak memory."""
GROWTH_BUDGET = 1.2
"""Per-resource time at 1,000 apps over that at 100, beyond what the bare SDK's own grows."""
PROCESS_PAIRS = 5
PROD_PLAN_BUDGET_SECONDS = 5.0
HUNDRED_APPS_BUDGET_SECONDS = 30.0
PROD_PLAN_MEMORY_BUDGET_MIB = 200
RULES_PER_SECOND_BUDGET = 10_000
"""Resources the policy rules check per second, in-process (the analyzer's own deserialization excluded)."""
PROTOCOL_STACK_APPS = 100
"""A synthetic stack of about 3,000 resources for the protocol's throughput."""
DEFAULT_REPEAT = 15  # measured pairs per stack; the 100-app stack gets a third of them
WARMUP_RUNS = 3  # unmeasured runs per side: caches, allocator arenas and CPU frequency settle first


def synthetic_config(apps: int) -> dict:
    """A prod-like stack with `apps` apps shaped like EventHorizon (three areas, CORS, tiering)."""
    definition = {
        "dialect": "django",
        "areas": {"media": {"access": "public"}, "static": {"access": "public"}, "private": {"access": "private"}},
        "cors": [{"origins": ["https://app.example.com"], "methods": ["GET", "PUT"]}],
        "lifecycle": [{"area": "private", "transitions": [{"days": 90, "storageClass": "STANDARD_IA"}]}],
    }
    values = {
        "aws:region": "us-east-1",
        "app-storage:encryption": "kms",
        "app-storage:cdn": {"enabled": True},
        "app-storage:replication": {"region": "us-west-2"},
        "app-storage:apps": {f"app{index:03d}": definition for index in range(apps)},
    }
    return {key: to_config_text(value) for key, value in values.items()}


def provider_class(token: str) -> type:
    """The provider SDK's class for a type token: `aws:s3/bucket:Bucket` -> `pulumi_aws.s3.Bucket`."""
    package, module_path, name = token.split(":")
    if (package, module_path) == ("pulumi", "providers"):  # `pulumi:providers:aws` -> `pulumi_aws.Provider`
        return importlib.import_module(f"pulumi_{name}").Provider
    module = module_path.split("/")[0]
    python_module = f"pulumi_{package}" if module == "index" else f"pulumi_{package}.{module}"
    return getattr(importlib.import_module(python_module), name)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def bare_sdk_program(plan: Plan) -> Callable[[], None]:
    """A program that registers every resource of `plan` straight through the SDK: the same URNs (same
    types, names and parents), inputs, options and property dependencies, with the provider SDK's own classes and
    plain ComponentResources, and exports the same stack outputs (as plain values); none of this package's
    settings, documents or component code. Each component registers the outputs the program's registered (as
    plain values).

    An input that depended on other resources is passed as an output of those resources, as a program written
    against the bare SDK passes `bucket.arn`: the engine receives the same property dependencies, and the SDK does
    the same work to resolve and record them."""
    def program() -> None:
        declared: dict[str, pulumi.Resource] = {}
        for recorded in plan.resources:
            recorded_options = recorded.options
            options = pulumi.ResourceOptions(
                parent=declared.get(recorded.parent or ""),
                protect=recorded_options["protect"],
                retain_on_delete=recorded_options["retainOnDelete"],
                depends_on=[declared[urn] for urn in recorded_options["dependsOn"] if urn in declared],
                aliases=recorded_options.get("aliases"),
                delete_before_replace=recorded_options.get("deleteBeforeReplace"),
                replacement_trigger=recorded_options.get("replacementTrigger"),
                replace_on_changes=recorded_options.get("replaceOnChanges"),
                ignore_changes=recorded_options.get("ignoreChanges"))
            if recorded.custom:
                dependencies = recorded.registration.get("property_dependencies", {})
                arguments = {_snake(key): _depending(value, [declared[urn] for urn in dependencies.get(key, ())
                                                            if urn in declared])
                             for key, value in recorded.inputs.items()}
                declared[recorded.urn] = provider_class(recorded.type)(recorded.name, opts=options, **arguments)
            else:
                component = declared[recorded.urn] = pulumi.ComponentResource(recorded.type, recorded.name, None,
                                                                              options)
                if "outputs" in recorded.registration:
                    component.register_outputs(recorded.registration["outputs"])
        for name, value in plan.outputs.items():
            pulumi.export(name, value)
    return program


def _depending(value: object, resources: list[pulumi.Resource]) -> object:
    """`value`, as an output of `resources` when it depended on them."""
    if not resources:
        return value
    return pulumi.Output.all(*(resource.urn for resource in resources)).apply(lambda _: value)


def replay_form(plan: Plan) -> dict:
    """What a replay process reads: the plan as `plan --json` prints it, with each resource's property
    dependencies and each component's registered outputs."""
    saved = plan.as_dict()
    for entry, recorded in zip(saved["resources"], plan.resources, strict=True):
        entry["registration"] = {key: recorded.registration[key] for key in ("property_dependencies", "outputs")
                                 if key in recorded.registration}
    return saved


def registration_order(plan: Plan) -> None:
    """Parents before children, what a resource depends on (by option or by property) before it: an order a
    program could declare them in (a depth-first topological order, ties by URN)."""
    by_urn = {r.urn: r for r in plan.resources}
    ordered: list = []
    placed: set[str] = set()

    def place(urn: str) -> None:
        if urn in placed or urn not in by_urn:
            return
        placed.add(urn)
        recorded = by_urn[urn]
        for dependency in [recorded.parent or "", *recorded.options["dependsOn"],
                           *(u for urns in recorded.registration.get("property_dependencies", {}).values()
                             for u in urns)]:
            place(dependency)
        ordered.append(recorded)

    for urn in sorted(by_urn):
        place(urn)
    plan.resources[:] = ordered


def _seconds(run: Callable[[], object]) -> float:
    """CPU seconds of one run, with the collector paused as timeit does (other processes don't count)."""
    gc.collect()
    gc.disable()
    try:
        started = time.process_time()
        run()
        return time.process_time() - started
    finally:
        gc.enable()


def compare(stack: str, config: dict, repeat: int) -> tuple[float, float, float, int]:
    """Best-of-`repeat` seconds for the program and for the bare SDK, and the median ratio of the
    interleaved pairs; the resource count."""
    plan = evaluate(stack, config, run_main)  # also warms imports and caches
    registration_order(plan)
    bare = bare_sdk_program(plan)
    replayed = evaluate(stack, config, bare)
    if [r.urn for r in replayed.resources] != sorted(r.urn for r in plan.resources):
        raise AssertionError("the bare SDK program did not register the same resources")
    for _ in range(WARMUP_RUNS):
        evaluate(stack, config, run_main)
        evaluate(stack, config, bare)
    component_runs, bare_runs = [], []
    for _ in range(repeat):
        component_runs.append(_seconds(lambda: evaluate(stack, config, run_main)))
        bare_runs.append(_seconds(lambda: evaluate(stack, config, bare)))
    # Each pair ran back to back, so a slow spell of the machine slows both halves of a pair alike.
    ratio = statistics.median(c / b for c, b in zip(component_runs, bare_runs, strict=True))
    return min(component_runs), min(bare_runs), ratio, len(plan.resources)


def plan_as_user_would() -> tuple[float, float]:
    """Wall seconds and peak MiB of `python -m cli plan --stack prod --json`, a fresh process."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cli", "plan", "--stack", "prod", "--json"], cwd=PROJECT_ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, peak_kib / 1024


def rules_per_second(resources: list, repeat: int) -> float:
    """Every rule over `resources` in-process: resource rules on each, stack rules once; best of `repeat`."""
    from policies.rules import RULES
    from policies.rules.pack import resource_violations, stack_violations
    from policies.rules.stack import StackView

    viewed = policy.policy_resources(resources)
    resource_rules = [rule for rule in RULES if not rule.stack]
    stack_rules = [rule for rule in RULES if rule.stack]

    def check_all() -> None:
        for subject in viewed:
            for rule in resource_rules:
                resource_violations(rule, subject)
        stack = StackView(viewed)
        for rule in stack_rules:
            stack_violations(rule, stack)
    return len(viewed) / min(_seconds(check_all) for _ in range(repeat))


def policy_throughput(stack: str, config: dict, repeat: int) -> tuple[int, float, float]:
    """Resources, rules in-process per second, and resources per second through the Analyzer protocol (Analyze
    for each, then AnalyzeStack; wall time, the pack's process included, already started)."""
    plan = evaluate(stack, config, run_main)
    resources = policy.analyzed_resources(plan)
    in_process = rules_per_second(resources, repeat)
    with policy.open_pack(plan, config_file=policy.default_config_file("prod")) as session:
        session.analyze(resources)  # warm
        walls = []
        for _ in range(max(1, repeat // 3)):
            started = time.perf_counter()
            session.analyze(resources)
            walls.append(time.perf_counter() - started)
    return len(resources), in_process, len(resources) / min(walls)


def _child(arguments: list[str], output: Path | None = None) -> tuple[float, int]:
    """CPU seconds (user + system) and peak KiB of one child process (its own rusage, from wait4); its stdout goes
    to `output` (or nowhere), its stderr to a file, so neither pipe can fill while it runs."""
    with tempfile.TemporaryFile() as errors, (output.open("w") if output else open(os.devnull, "w")) as out:
        process = subprocess.Popen([sys.executable, *arguments], cwd=PROJECT_ROOT, stdout=out, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise RuntimeError(f"{' '.join(arguments)} failed ({process.returncode}): "
                               f"{errors.read().decode(errors='replace')[-2000:]}")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def replay_main(plan_file: str, printed: str = "plan") -> None:
    """A process that registers a saved plan's resources (`replay_form`) through the bare SDK (`bare_sdk_program`) and
    prints what the other side prints: the plan JSON as `plan --json` prints its own, or (`printed="replay"`) its
    replay form, as the large stack's program does. The other half of a process-level comparison."""
    import json

    from cli.offline import RecordedResource

    saved = json.loads(Path(plan_file).read_text())
    plan = Plan(stack=saved["stack"], outputs=saved["outputs"],
                resources=[RecordedResource(**{key: entry[key] for key in ("urn", "type", "name", "parent", "custom",
                                                                          "inputs", "options")},
                                            registration=entry["registration"])
                           for entry in saved["resources"]])
    registration_order(plan)
    replayed = evaluate(plan.stack, {"aws:region": saved.get("region", "us-east-1")}, bare_sdk_program(plan))
    print(json.dumps(replay_form(replayed) if printed == "replay" else replayed.as_dict()))


ONE_SHOT = "import gc; gc.disable(); "
"""Each measured child starts as `python -m cli` does: a short process, the cyclic collector off."""
REPLAY = ONE_SHOT + "import sys; from cli.bench import replay_main; replay_main(*sys.argv[1:])"
"""A bare replay process: `replay_main`'s arguments follow."""
REPLAY_FORM_OF_STACK = (ONE_SHOT + "import json, sys; from cli.bench import replay_form; "
                        "from cli.offline import evaluate_stack; "
                        "print(json.dumps(replay_form(evaluate_stack(sys.argv[1]))))")


def plan_processes(pairs: int = PROCESS_PAIRS) -> dict[str, float]:
    """Median CPU seconds of `plan --stack prod` with and without its policy summary and of the bare replay of the
    same resources, each a fresh process, run in turn `pairs` times; and the medians of the per-round ratios."""
    with tempfile.TemporaryDirectory() as directory:
        saved = Path(directory) / "prod.json"
        _child(["-c", REPLAY_FORM_OF_STACK, "prod"], saved)  # a warm-up that saves what the replay reads
        sides = {"plan": ["-m", "cli", "plan", "--stack", "prod", "--json", "--no-policy"],
                 "plan with summary": ["-m", "cli", "plan", "--stack", "prod", "--json"],
                 "bare replay": ["-c", REPLAY, str(saved)]}
        runs: dict[str, list[float]] = {side: [] for side in sides}
        for _ in range(pairs):
            for side, arguments in sides.items():
                runs[side].append(_child(arguments)[0])
    result = {side: statistics.median(times) for side, times in runs.items()}
    for side in ("plan", "plan with summary"):
        result[f"{side} / bare"] = statistics.median(
            own / bare for own, bare in zip(runs[side], runs["bare replay"], strict=True))
    return result


@dataclass(frozen=True)
class LargeStack:
    resources: int
    sides: dict[str, tuple[float, int]]
    """"program" and "bare replay": median CPU seconds and median peak KiB."""
    time_ratio: float
    memory_ratio: float
    """Medians of the per-pair ratios."""


def large_stack(apps: int, pairs: int = LARGE_PAIRS) -> LargeStack:
    """The program evaluating a synthetic stack of `apps` apps, and the bare replay of its resources, each in a
    process of its own, `pairs` times in turn."""
    import json

    runs: dict[str, list[tuple[float, int]]] = {"program": [], "bare replay": []}
    with tempfile.TemporaryDirectory() as directory:
        saved = Path(directory) / "large.json"
        program = (ONE_SHOT + "import json, sys; from cli.bench import replay_form, synthetic_config; "
                   "from cli.offline import evaluate, run_main; "
                   "plan = evaluate('bench', synthetic_config(int(sys.argv[1])), run_main); "
                   "print(json.dumps(replay_form(plan)))")  # as the replay prints its own (json.dump is far slower)
        for _ in range(pairs):
            runs["program"].append(_child(["-c", program, str(apps)], saved))  # each measured run saves the plan
            runs["bare replay"].append(_child(["-c", REPLAY, str(saved), "replay"]))
        count = len(json.loads(saved.read_text())["resources"])

    def median_ratio(index: int) -> float:
        return statistics.median(own[index] / bare[index]
                                 for own, bare in zip(runs["program"], runs["bare replay"], strict=True))
    return LargeStack(count, {side: (statistics.median(cpu for cpu, _ in measured),
                                     int(statistics.median(kib for _, kib in measured)))
                              for side, measured in runs.items()}, median_ratio(0), median_ratio(1))


def main(repeat: int = DEFAULT_REPEAT, large_apps: int = LARGE_APPS) -> int:
    # First, while this process is small: a child's peak memory counts the copy of its parent at fork.
    seconds, mib = plan_as_user_would()
    prod_config, _ = load_stack_config("prod")
    dev_config, _ = load_stack_config("dev")
    # (name, stack, config, measured pairs, CPU-seconds budget or None)
    scenarios = [("prod stack", "prod", prod_config, repeat, None),
                 ("dev stack", "dev", dev_config, repeat, None),
                 ("1 app", "bench", synthetic_config(1), repeat, None),
                 ("10 apps", "bench", synthetic_config(10), repeat, None),
                 ("100 apps", "bench", synthetic_config(100), max(1, repeat // 3), HUNDRED_APPS_BUDGET_SECONDS)]
    print("Seconds of CPU, best of the runs; ratio: median over back-to-back pairs. 'bare SDK' registers\n"
          "the same resources (same URNs, inputs, options and property dependencies) straight through the SDK,\n"
          "without this package's settings and component code.\n")
    print(f"{'stack':<12}{'resources':>10}{'components s':>15}{'bare SDK s':>13}{'ratio':>8}  budget")
    within = True
    measured: dict[str, tuple[float, float, float, int]] = {}
    for name, stack, config, pairs, seconds_budget in scenarios:
        component, bare, ratio, count = measured[name] = compare(stack, config, pairs)
        ok = ratio <= RATIO_BUDGET and (seconds_budget is None or component <= seconds_budget)
        within &= ok
        print(f"{name:<12}{count:>10}{component:>15.3f}{bare:>13.3f}{ratio:>8.2f}  "
              f"{'ok' if ok else 'OVER'} (ratio <= {RATIO_BUDGET})")
    print("\nPolicy pack: rules in-process (CPU) and through the Analyzer protocol (wall, as the engine drives it).")
    print(f"{'stack':<12}{'resources':>10}{'rules res/s':>14}{'protocol res/s':>16}  budget")
    for name, stack, config in (("prod stack", "prod", prod_config),
                                (f"{PROTOCOL_STACK_APPS} apps", "bench", synthetic_config(PROTOCOL_STACK_APPS))):
        count, in_process, through_protocol = policy_throughput(stack, config, max(3, repeat // 3))
        ok = in_process >= RULES_PER_SECOND_BUDGET
        within &= ok
        print(f"{name:<12}{count:>10}{in_process:>14,.0f}{through_protocol:>16,.0f}  "
              f"{'ok' if ok else 'OVER'} (rules >= {RULES_PER_SECOND_BUDGET:,}/s; protocol measured)")
    plan_ok = seconds <= PROD_PLAN_BUDGET_SECONDS and mib <= PROD_PLAN_MEMORY_BUDGET_MIB
    within &= plan_ok
    print(f"\nplan --stack prod in a fresh process: {seconds:.2f} s, peak {mib:.0f} MiB  "
          f"{'ok' if plan_ok else 'OVER'} (<= {PROD_PLAN_BUDGET_SECONDS:.0f} s, <= {PROD_PLAN_MEMORY_BUDGET_MIB} MiB)")

    processes = plan_processes()
    print(f"\nWhole processes, CPU seconds, medians of {PROCESS_PAIRS} rounds (plan, with its summary, bare replay):")
    for side in ("plan", "plan with summary", "bare replay"):
        print(f"  {side:<18}{processes[side]:>8.2f} s")
    for side, budget in (("plan", PLAN_RATIO_BUDGET), ("plan with summary", PLAN_WITH_SUMMARY_RATIO_BUDGET)):
        ratio = processes[f"{side} / bare"]
        within &= ratio <= budget
        print(f"  {side + ' / bare':<25}{ratio:>6.2f}  {'ok' if ratio <= budget else 'OVER'} (<= {budget})")

    if large_apps:
        large = large_stack(large_apps)
        hundred_component, hundred_bare, _, hundred_count = measured["100 apps"]
        print(f"\n{large_apps:,} apps, each side a process of its own, medians of {LARGE_PAIRS} pairs (CPU, peak "
              "memory, per resource):")
        count, (own_s, _), (bare_s, _) = large.resources, large.sides["program"], large.sides["bare replay"]
        for side, (cpu, kib) in large.sides.items():
            print(f"  {side:<12}{count:>8,} resources {cpu:>8.1f} s {kib / 1024:>7.0f} MiB "
                  f"{cpu / count * 1000:>6.2f} ms/resource {kib / count:>6.1f} KB/resource")
        time_ratio, memory_ratio = large.time_ratio, large.memory_ratio
        growth_own = (own_s / count) / (hundred_component / hundred_count)
        growth_bare = (bare_s / count) / (hundred_bare / hundred_count)
        ok = time_ratio <= LARGE_RATIO_BUDGET and memory_ratio <= LARGE_RATIO_BUDGET
        within &= ok and growth_own / growth_bare <= GROWTH_BUDGET
        print(f"  program / bare: time {time_ratio:.2f}, memory {memory_ratio:.2f}  "
              f"{'ok' if ok else 'OVER'} (<= {LARGE_RATIO_BUDGET})")
        print(f"  per-resource time, {large_apps:,} apps over 100: program {growth_own:.2f}, bare SDK {growth_bare:.2f}"
              f"; ours {growth_own / growth_bare:.2f}  {'ok' if growth_own / growth_bare <= GROWTH_BUDGET else 'OVER'}"
              f" (<= {GROWTH_BUDGET}; the rest is the SDK's own)")
    return 0 if within else 1
