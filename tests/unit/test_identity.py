"""Resource identity is the URN: the golden list of (URN, type, parent, protect) of the shipped stacks.

Renaming a child or a component's type token, or moving a resource to another parent, gives it a new URN,
and the engine then replaces it: for a protected bucket, the update stops. Such a change must carry
`aliases` naming the old URN. New resources are fine once the list is regenerated on purpose:

    UPDATE_GOLDEN=1 venv/bin/python -m pytest tests/unit/test_identity.py
"""

from __future__ import annotations

import dataclasses
import os

import pulumi
import pytest

from cli.offline import Plan, evaluate_stack
from tests.helpers import ROOT, plan_program

GOLDEN = ROOT / "tests" / "golden"


def identity_rows(plan: Plan) -> list[str]:
    return [f"{r.urn}\t{r.type}\t{r.parent or '-'}\t{'protect' if r.options['protect'] else '-'}"
            for r in plan.resources]


def identity_problems(golden: list[str], plan: Plan) -> list[str]:
    """What in `plan` would replace or lose a resource of the golden list, and what the list lacks."""
    current = {row.split("\t")[0]: row for row in identity_rows(plan)}
    aliased = {alias for r in plan.resources for alias in r.options.get("aliases", [])}
    known = {row.split("\t")[0]: row for row in golden}
    problems = []
    for urn, row in known.items():
        if urn in current:
            if current[urn] != row:
                problems.append(f"changed: {row!r} is now {current[urn]!r}")
        elif urn not in aliased:
            problems.append(f"gone without an alias (the engine would replace it): {urn}; give the renamed or moved "
                            "resource `aliases=[...]` naming this URN")
    problems += [f"not in the golden list: {r.urn}" for r in plan.resources
                 if r.urn not in known and not known.keys() & set(r.options.get("aliases", []))]
    return problems


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_the_shipped_stacks_keep_every_urn(stack):
    plan = evaluate_stack(stack)
    path = GOLDEN / f"{stack}.tsv"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text("\n".join(identity_rows(plan)) + "\n")
    golden = path.read_text().splitlines()
    assert identity_problems(golden, plan) == [], f"see the docstring of {__name__} to regenerate on purpose"


def test_a_renamed_child_without_an_alias_fails_and_with_one_passes(prod_plan):
    golden = identity_rows(prod_plan)
    [bucket] = [r for r in prod_plan.resources if r.name == "chat-storage-bucket"]
    renamed = dataclasses.replace(bucket, name="chat-storage-data", urn=bucket.urn.replace("::chat-storage-bucket",
                                                                                            "::chat-storage-data"))
    resources = [renamed if r is bucket else r for r in prod_plan.resources]
    problems = identity_problems(golden, dataclasses.replace(prod_plan, resources=resources))
    assert any(p.startswith("gone without an alias") and p.endswith(bucket.urn + "; give the renamed or moved "
                                                                     "resource `aliases=[...]` naming this URN")
               for p in problems)
    with_alias = dataclasses.replace(renamed, options={**renamed.options, "aliases": [bucket.urn]})
    resources = [with_alias if r is bucket else r for r in prod_plan.resources]
    assert identity_problems(golden, dataclasses.replace(prod_plan, resources=resources)) == []


def test_a_renamed_type_token_fails(prod_plan):
    golden = identity_rows(prod_plan)
    token = "app-storage:index:SecureBucket"
    moved = [dataclasses.replace(r, urn=r.urn.replace(token, "app-storage:index:HardenedBucket"))
             for r in prod_plan.resources]
    problems = identity_problems(golden, dataclasses.replace(prod_plan, resources=moved))
    assert sum(p.startswith("gone without an alias") for p in problems) >= 6 * 10


def test_aliases_declared_in_a_program_reach_the_plan_as_urns():
    """The engine resolves an alias spec against the resource's own name, type and parent; so does the plan."""
    def program():
        parent = pulumi.ComponentResource("app-storage:index:Thing", "thing")
        pulumi.ComponentResource("app-storage:index:Part", "thing-part", opts=pulumi.ResourceOptions(
            parent=parent, aliases=[pulumi.Alias(name="thing-old-part")]))
    plan = plan_program(program)
    [part] = [r for r in plan.resources if r.name == "thing-part"]
    assert part.options["aliases"] == [part.urn.replace("::thing-part", "::thing-old-part")]
