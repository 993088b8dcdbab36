"""`make plan`'s policy summary runs the pack's rules in-process; `make policy` drives the pack over the Analyzer
protocol. The two must agree: same policies, levels and config schemas, and the same verdicts."""

from __future__ import annotations

import pytest
from google.protobuf import json_format

from cli import policy
from cli.offline import evaluate_stack
from tests.helpers import ROOT

INSECURE_PROGRAM = ROOT / "tests" / "fixtures" / "insecure_program"


def _verdicts(report: policy.PolicyReport) -> list[tuple]:
    return sorted((v.policy, v.level, v.severity, v.urn, v.message, v.remediation) for v in report.violations)


def test_the_in_process_policy_infos_are_the_packs(prod_plan):
    """What the in-process check reconciles the config against is what the running pack answers to
    GetAnalyzerInfo: the same policies, levels and config schemas."""
    with policy.open_pack(prod_plan) as session:
        running = session.info
    built = policy.analyzer_info()

    def shape(info):
        return [(p.name, p.enforcementLevel, json_format.MessageToDict(p.configSchema)) for p in info.policies]
    assert shape(built) == shape(running) and built.name == running.name


@pytest.mark.parametrize("stack, root", [("prod", ROOT), ("dev", ROOT), ("prod", INSECURE_PROGRAM)],
                         ids=["prod", "dev", "insecure-program"])
def test_the_summary_and_make_policy_agree(stack, root):
    plan = evaluate_stack(stack, root=root)
    in_process = policy.check_in_process(plan)
    through_protocol = policy.check_stack(plan)
    assert _verdicts(in_process) == _verdicts(through_protocol)
    assert in_process.summary() == through_protocol.summary()
    if root == INSECURE_PROGRAM:
        assert len({v.policy for v in in_process.mandatory}) > 10  # the insecure program breaks most rules
