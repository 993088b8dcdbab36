"""`make bench` compares the program with a bare-SDK replay of what it declared: the replay must send the engine
the same registrations, or the ratio measures the difference between two different deployments."""

from __future__ import annotations

import copy
import json

from cli.bench import bare_sdk_program, registration_order, replay_form, replay_main
from cli.offline import Plan, evaluate, evaluate_stack


def registrations(plan: Plan) -> dict:
    return {r.urn: (r.type, r.custom, r.inputs, r.options, r.registration.get("property_dependencies"),
                    r.registration.get("outputs") is not None) for r in plan.resources}


def test_the_bare_replay_registers_what_the_program_registered_property_dependencies_and_outputs_included():
    program = evaluate_stack("prod")
    replayed_plan = copy.deepcopy(program)
    registration_order(replayed_plan)
    replayed = evaluate("prod", {"aws:region": "us-east-1"}, bare_sdk_program(replayed_plan))
    assert registrations(replayed) == registrations(program)
    assert replayed.outputs == program.outputs
    assert sum(bool(r.registration.get("property_dependencies")) for r in program.resources) > 50
    components = [r for r in program.resources if not r.custom]
    assert components and all("outputs" in r.registration for r in components)


def test_the_replay_process_reads_back_every_registration(tmp_path, capsys):
    program = evaluate_stack("dev")
    saved = tmp_path / "dev.json"
    saved.write_text(json.dumps(replay_form(program)))
    replay_main(str(saved))
    printed = json.loads(capsys.readouterr().out)
    assert printed == program.as_dict() | {"warnings": printed["warnings"]}
