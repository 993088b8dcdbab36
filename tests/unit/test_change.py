"""The change model (`make plan BASE=`): the engine's steps from a deployed plan to this checkout's, and hazards.

Engine facts cited below are pulumi/pulumi `pkg/resource/deploy` (read at v3.259): `step_generator.go`
(`continueStepsFromDiff`, `shouldTriggerReplace`, `GenerateDeletes`, `ScheduleDeletes`) and `step.go`
(`DeleteStep.Apply`).
"""

from __future__ import annotations

import copy
import itertools
import json

import pulumi
import pulumi_aws as aws
import pytest
import yaml
from pulumi.runtime import settings

from cli import change, provider_rules
from cli.offline import Plan, evaluate, run_main
from components.aws.app_identity import (
    REPLACEMENT_TRIGGER_ENGINE,
    AppIdentity,
    AppIdentityArgs,
    access_key_resource_name,
)
from components.settings.types import IdentitySettings
from tests.helpers import ROOT, as_config, generation_named_plan, plan_program, run_cli, stack_values

BUCKET_ARN = "arn:aws:s3:::app-storage-test-vista"


def identity_plan(generation: int, retire_previous: bool = False) -> dict:
    """One app's AppIdentity at `generation`, as the stack declares it."""
    generations = IdentitySettings(generation=generation, retire_previous=retire_previous).live_generations

    def program() -> None:
        identity = AppIdentity("vista-identity", AppIdentityArgs(
            user_name="vista", group_name="vista-access", bucket_arn=BUCKET_ARN, prefixes=("projects/",),
            key_generations=generations))
        pulumi.export("vista", {"access_keys": identity.access_keys})

    return plan_program(program).as_dict()


def key_steps(result: change.Change) -> list[tuple[str, str]]:
    return [(step.op, step.resource.name) for step in result.steps if step.resource.type == change.ACCESS_KEY]


def kinds(result: change.Change) -> list[str]:
    return [hazard.kind for hazard in result.hazards]


# --- key rotation ---------------------------------------------------------------------------------------------


def test_raising_the_generation_from_2_to_3_deletes_key_1_before_it_creates_key_3():
    """Generation 3 lives in generation 1's slot; the slot is replaced delete-before-replace when its trigger
    changes (`continueStepsFromDiff`: the DBR chain deletes the old resource, then creates the replacement)."""
    result = change.compare(identity_plan(2), identity_plan(3), "test")
    assert key_steps(result) == [("delete-replaced", "vista-identity-access-key"),
                                 ("create-replacement", "vista-identity-access-key")]
    assert "replacement trigger 1 -> 3" in result.steps[0].why
    assert result.hazards == []


def test_the_earlier_design_is_refused_for_a_third_key_when_going_from_2_to_3():
    """Keys named by generation: key 3 is created while the program runs and key 1 deleted only after it ends
    (`GenerateDeletes` in `performPostSteps`), so IAM would hold three keys and refuse the third (LimitExceeded)."""
    result = change.compare(generation_named_plan(2), generation_named_plan(3), "test")
    assert key_steps(result) == [("create", "vista-identity-access-key-g3"), ("delete", "vista-identity-access-key")]
    [hazard] = result.hazards
    assert hazard.kind == "access-keys" and hazard.step == 1
    assert "IAM user vista would hold 3 access keys" in hazard.message


STATES = [(generation, retire) for generation in range(1, 7) for retire in (False, True)
          if generation > 1 or not retire]


@pytest.fixture(scope="module")
def rotation_plans() -> dict:
    return {state: identity_plan(*state) for state in STATES}


def _most_keys_at_any_step(base: dict, result: change.Change) -> int:
    live = {("base", r["urn"]) for r in base["resources"] if r["type"] == change.ACCESS_KEY}
    most = len(live)
    for step in result.steps:
        if step.resource.type != change.ACCESS_KEY:
            continue
        if step.op in ("delete", "delete-replaced"):
            live.discard(("base", step.resource.urn))
        else:
            live.add(("new", step.resource.urn))
        most = max(most, len(live))
    return most


@pytest.mark.parametrize(("before", "after"), list(itertools.product(STATES, STATES)))
def test_every_transition_between_generations_1_to_6_holds_at_most_two_keys(rotation_plans, before, after):
    """Every change between generations 1-6, with and without `retirePrevious`: never more than IAM's two keys at
    any step, and the key the `.env` holds (the base's current key) is never deleted while the stack still gives
    the app keys: a transition that would is refused by the model."""
    base, new = rotation_plans[before], rotation_plans[after]
    result = change.compare(base, new, "test")
    assert "access-keys" not in kinds(result)
    assert _most_keys_at_any_step(base, result) <= 2
    current_key_deleted = any(step.op in ("delete", "delete-replaced") and step.resource.name ==
                              _slot_of(before[0]) for step in result.steps if step.resource.type == change.ACCESS_KEY)
    assert current_key_deleted == ("current-key" in kinds(result)), result.hazards


def _slot_of(generation: int) -> str:
    return access_key_resource_name("vista-identity", generation)


@pytest.mark.parametrize("generation", range(1, 6))
def test_the_runbook_raise_then_retire_is_accepted_at_every_generation(rotation_plans, generation):
    """The runbook: raise by one (both keys live), then retire the previous one: no hazard at either step."""
    raised = change.compare(rotation_plans[(generation, False)], rotation_plans[(generation + 1, False)], "test")
    assert raised.hazards == []
    retired = change.compare(rotation_plans[(generation + 1, False)], rotation_plans[(generation + 1, True)], "test")
    assert retired.hazards == [] and key_steps(retired) == [("delete", _slot_of(generation))]


def test_skipping_a_generation_is_refused_because_it_deletes_the_key_the_env_holds(rotation_plans):
    result = change.compare(rotation_plans[(2, False)], rotation_plans[(4, False)], "test")
    [hazard] = [h for h in result.hazards if h.kind == "current-key"]
    assert "generation 2, which app vista's .env holds" in hazard.message
    assert "retirePrevious: false" in hazard.message


@pytest.mark.parametrize("generation", [2, 3, 4])
def test_upgrading_from_generation_named_keys_keeps_the_deployed_keys(generation):
    """Each slot aliases the earlier design's key of its generation (`getOldResource`: the URN, then aliases), and
    a trigger that BASE never recorded does not replace (`shouldTriggerReplace`: null on either side is no
    replacement)."""
    result = change.compare(generation_named_plan(generation), identity_plan(generation), "test")
    assert key_steps(result) == []


def test_a_trigger_missing_on_either_side_never_replaces_and_a_changed_one_does():
    """`shouldTriggerReplace`: unknown replaces; null on either side does not; otherwise replace iff different."""
    def resource(trigger):
        return change.Resource(urn="u", type=change.ACCESS_KEY, name="k", custom=True, inputs={"user": "vista"},
                               options={} if trigger is None else {"replacementTrigger": trigger})

    assert change.replacement_reasons(resource(None), resource(3))[0] == []
    assert change.replacement_reasons(resource(3), resource(None))[0] == []
    assert change.replacement_reasons(resource(3), resource(3))[0] == []
    assert change.replacement_reasons(resource(1), resource(3))[0] == ["replacement trigger 1 -> 3"]
    assert change.replacement_reasons(resource(1), resource("[unknown]"))[0]


# --- the shipped stacks ---------------------------------------------------------------------------------------


def _stack_plan(stack: str, mutate=None) -> dict:
    values = copy.deepcopy(stack_values(stack))
    if mutate:
        mutate(values)
    return evaluate(stack, as_config(values), run_main).as_dict()


def _rename_chat_bucket(values: dict) -> None:
    values["app-storage:apps"]["chat"]["bucketName"] = "chat-renamed-bucket"


def test_renaming_a_prod_bucket_is_refused_naming_the_protected_bucket():
    """A new `bucket` forces a replacement (terraform-provider-aws `aws_s3_bucket`: `bucket` is ForceNew); the
    bucket is protected in prod, so the engine stops the update at the replacement (`BailErrorf`)."""
    result = change.compare(_stack_plan("prod"), _stack_plan("prod", _rename_chat_bucket), "prod")
    protected = {h.urn.rsplit("::", 1)[-1]: h for h in result.hazards if h.kind == "protected"}
    assert {"chat-storage-bucket", "chat-replication-replica-bucket"} <= set(protected)
    assert result.stops_at == min(h.step for h in protected.values())
    assert protected["chat-storage-bucket"].message.startswith(
        "aws:s3/bucket:Bucket chat-storage-bucket is protected and would be replaced (`bucket` changes)")


def test_renaming_a_dev_bucket_names_the_bucket_whose_data_goes():
    """Dev is disposable (`protectData: false`, `forceDestroy: true`): the original bucket is deleted with its
    objects after the program (`GenerateDeletes`)."""
    result = change.compare(_stack_plan("dev"), _stack_plan("dev", _rename_chat_bucket), "dev")
    [data] = [h for h in result.hazards if h.kind == "data"]
    assert data.message.startswith("bucket app-storage-dev-chat (chat-storage-bucket) is deleted with every object")
    assert result.stops_at is None


def test_removing_an_app_deletes_dependents_before_what_they_depend_on():
    """`ScheduleDeletes`: antichains of condemned resources in reverse dependency order."""
    base = _stack_plan("dev")

    def without_chat(values: dict) -> None:
        del values["app-storage:apps"]["chat"]

    result = change.compare(base, _stack_plan("dev", without_chat), "dev")
    order = [step.resource.urn for step in result.steps if step.op == "delete"]
    assert order and all(step.phase == change.AFTER for step in result.steps if step.op == "delete")
    for resource in change.resources_of(base):
        if resource.urn in order:
            for dep in resource.dependencies & set(order):
                assert order.index(resource.urn) < order.index(dep), (resource.name, dep)


def _without_chat(values: dict) -> None:
    del values["app-storage:apps"]["chat"]


def test_removing_a_prod_app_is_refused_for_its_protected_bucket_and_what_it_needs_is_kept():
    """`DeleteStep.Apply` refuses a protected resource before it looks at `retainOnDelete`, and `performPostSteps`
    then skips the deletes of what the failed one depends on: no data hazard, the bucket stays."""
    result = change.compare(_stack_plan("prod"), _stack_plan("prod", _without_chat), "prod")
    numbered = {step.resource.name: number for number, step in enumerate(result.steps, 1)}
    protected = {h.urn.rsplit("::", 1)[-1] for h in result.hazards if h.kind == "protected"}
    assert "chat-storage-bucket" in protected and "data" not in kinds(result)
    assert numbered["chat-storage-bucket"] in result.skipped


def test_removing_a_dev_app_names_the_bucket_deleted_with_its_objects():
    result = change.compare(_stack_plan("dev"), _stack_plan("dev", _without_chat), "dev")
    [data] = [h for h in result.hazards if h.kind == "data"]
    assert "app-storage-dev-chat (chat-storage-bucket) is deleted with every object" in data.message
    assert "Declare the app again" in data.message and result.skipped == []


def _vista_rotation(generation: int, retire: bool = False):
    def mutate(values: dict) -> None:
        values["app-storage:apps"]["vista"]["identity"] = {
            "rotation": {"generation": generation, "retirePrevious": retire}}
    return mutate


@pytest.mark.parametrize(("before", "after"), [((3, False), (5, False)), ((3, False), (2, False)),
                                               ((2, False), (3, True))])
def test_on_minio_deleting_the_key_the_env_holds_is_refused(before, after):
    """MinIO's keys are the user (generation 1) and a service account per later generation, each found by the id the
    outputs name (a service account's id is its access key: terraform-provider-minio v1.20.1
    resource_minio_service_account.go, SetId)."""
    result = change.compare(_stack_plan("dev", _vista_rotation(*before)), _stack_plan("dev", _vista_rotation(*after)),
                            "dev")
    [hazard] = [h for h in result.hazards if h.kind == "current-key"]
    assert f"generation {before[0]}, which app vista's .env holds" in hazard.message


def test_on_minio_the_runbook_is_accepted():
    for before, after in (((1, False), (2, False)), ((2, False), (2, True)), ((2, True), (3, False))):
        result = change.compare(_stack_plan("dev", _vista_rotation(*before)),
                                _stack_plan("dev", _vista_rotation(*after)), "dev")
        assert result.hazards == [], (before, after, result.hazards)


@pytest.mark.parametrize(("generation", "refused_for"), [(2, "key-generation"), (3, "access-keys"),
                                                        (4, "access-keys")])
def test_upgrading_and_raising_in_one_update_is_refused(generation, refused_for):
    """A slot that takes over a key deployed before slots has no trigger in the state, so raising the generation in
    the same update replaces nothing (`shouldTriggerReplace`: null is no replacement) and the old key would be handed
    out as the new generation; where the new generation's slot takes over no key, it is created beside both deployed
    ones, a third key."""
    result = change.compare(generation_named_plan(generation), identity_plan(generation + 1), "test")
    assert refused_for in kinds(result)
    if refused_for == "key-generation":
        [hazard] = [h for h in result.hazards if h.kind == "key-generation"]
        assert f"hands it out as generation {generation + 1}" in hazard.message
        assert f"deployed generation ({generation - 1})" in hazard.message


def test_upgrading_with_the_previous_key_retired_may_raise_at_once():
    """Only generation 2's key is deployed: generation 3 fills an empty slot beside it, two keys, nothing relabelled."""
    result = change.compare(generation_named_plan(2, retire_previous=True), identity_plan(3), "test")
    assert result.hazards == [] and key_steps(result) == [("create", "vista-identity-access-key")]


def test_steps_before_a_stop_are_only_what_the_protected_replacement_depends_on():
    """The engine stops at the first protected replacement it meets and runs chains in parallel: the model puts
    protected replacements first wherever the order is free, so what it shows before the stop must precede it."""
    def new_prefix(values: dict) -> None:
        values["app-storage:bucketPrefix"] = "renamed"

    base = _stack_plan("prod")
    result = change.compare(base, _stack_plan("prod", new_prefix), "prod")
    assert result.stops_at is not None
    stopped = result.steps[result.stops_at - 1].resource
    olds = {r.urn: r for r in change.resources_of(base)}
    needed = change._reaches(stopped.urn, {**olds, stopped.urn: stopped})
    before = [step.resource for step in result.steps[:result.stops_at - 1]]
    assert all(r.urn in needed for r in before), [r.name for r in before]


def test_a_region_change_does_not_report_kms_aliases_sharing_a_name():
    """A KMS alias name is unique per account and region: the replacement in the new region does not collide."""
    def moved(values: dict) -> None:
        values["aws:region"] = "eu-west-1"

    result = change.compare(_stack_plan("prod"), _stack_plan("prod", moved), "prod")
    assert not [h for h in result.hazards if h.kind == "physical-name" and "kms/alias" in h.message]


def test_a_retained_delete_says_it_stays_in_the_cloud():
    def without_cors(values: dict) -> None:
        del values["app-storage:apps"]["eventhorizon"]["cors"]

    result = change.compare(_stack_plan("prod"), _stack_plan("prod", without_cors), "prod")
    [deleted] = [s for s in result.steps if s.op == "delete"]
    assert deleted.resource.type.endswith("BucketCorsConfiguration") and "retained on delete" in deleted.why


def test_the_shipped_stacks_are_unchanged_against_their_own_plans(prod_plan, dev_plan):
    for plan in (prod_plan, dev_plan):
        result = change.compare(plan.as_dict(), plan.as_dict(), plan.stack)
        assert result.steps == [] and result.hazards == []
        assert result.unchanged == sum(1 for r in plan.resources if r.custom)


def test_a_renamed_resource_without_an_alias_holds_its_name_twice():
    """A new URN is a create while the program runs; the old URN is deleted only after it (`GenerateDeletes`), so
    both hold the IAM user's name at once and IAM refuses the create (EntityAlreadyExists)."""
    def program(logical: str):
        return lambda: aws.iam.User(logical, name="vista")

    result = change.compare(plan_program(program("vista-user")).as_dict(),
                            plan_program(program("vista-identity-user")).as_dict(), "test")
    assert [(s.op, s.phase) for s in result.steps] == [("create", "program"), ("delete", "after")]
    [hazard] = result.hazards
    assert hazard.kind == "physical-name" and "named vista" in hazard.message


# --- the command ----------------------------------------------------------------------------------------------


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def _rotation_stack_file(tmp_path, generation: int):
    text = (ROOT / "Pulumi.prod.yaml").read_text()
    return _write(tmp_path, f"g{generation}.yaml",
                  text + f"  app-storage:identity: {{rotation: {{generation: {generation}}}}}\n")


def test_make_plan_base_from_generation_2_to_3_on_prod_shows_the_order_and_exits_0(tmp_path):
    saved = run_cli("plan", "--stack", "prod", "--stack-file", str(_rotation_stack_file(tmp_path, 2)), "--json")
    assert saved.returncode == 0, saved.stderr
    base = _write(tmp_path, "deployed.json", saved.stdout)
    result = run_cli("plan", "--stack", "prod", "--stack-file", str(_rotation_stack_file(tmp_path, 3)),
                     "--base", str(base))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    deleted = lines.index(next(line for line in lines if "delete-replaced" in line and "vista-identity-access-key"
                               in line))
    assert "create-replacement" in lines[deleted + 1] and "vista-identity-access-key" in lines[deleted + 1]
    assert "no hazards" in result.stdout
    as_json = run_cli("plan", "--stack", "prod", "--stack-file", str(_rotation_stack_file(tmp_path, 3)),
                      "--base", str(base), "--json")
    assert json.loads(as_json.stdout)["hazards"] == []


def test_make_plan_base_exits_1_and_names_each_hazard(tmp_path):
    values = copy.deepcopy(stack_values("prod"))
    _rename_chat_bucket(values)
    stack_file = _write(tmp_path, "renamed.yaml", (ROOT / "Pulumi.prod.yaml").read_text() + "  app-storage:apps: "
                        + json.dumps(values["app-storage:apps"]) + "\n")
    base = _write(tmp_path, "deployed.json", json.dumps(Plan.as_dict(evaluate(
        "prod", as_config(stack_values("prod")), run_main))))
    result = run_cli("plan", "--stack", "prod", "--stack-file", str(stack_file), "--base", str(base))
    assert result.returncode == 1
    assert "✗ protected: aws:s3/bucket:Bucket chat-storage-bucket is protected" in result.stdout
    assert "■ the engine stops the update here" in result.stdout


@pytest.mark.parametrize(("text", "expected"), [
    (None, "no such file"),
    ("{not json", "not a plan JSON"),
    ('{"resources": [{"urn": 1}]}', "resources[0] has no urn, type and name as text"),
    ('{"stack": "prod", "resources": []}', "is a plan of stack 'prod', not 'dev'"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"resources": "abc"}', "no `resources` list"),
    ('{"resources": [{"urn": "u", "type": "t", "name": "n", "options": [1]}]}', "resources[0].options is list"),
    ('{"resources": [{"urn": "u", "type": "t", "name": "n", "options": {"dependsOn": "abc"}}]}',
     "resources[0].options.dependsOn is str"),
    ('{"resources": [{"urn": "u", "type": "t", "name": "n", "options": {"dependsOn": [["a"]]}}]}',
     "resources[0].options.dependsOn is list"),
    ('{"resources": [{"urn": "u", "type": "t", "name": "n", "options": {"protect": "false"}}]}',
     "resources[0].options.protect is str"),
    ('{"resources": [{"urn": "u", "type": "t", "name": "n", "parent": ["p"]}]}', "resources[0].parent is list"),
    ('{"resources": [{"urn": "u", "type": "t", "name": "n", "inputs": "abc"}]}', "resources[0].inputs is str"),
    ('{"resources": [], "outputs": "abc"}', "`outputs` is not a map"),
    ('{"resources": [], "outputs": {"chat": {"access_keys": [1]}}}', "outputs.chat.access_keys is not a list"),
])
def test_fails_on_a_base_that_is_not_a_plan(tmp_path, text, expected):
    base = tmp_path / "deployed.json"
    if text is not None:
        base.write_text(text)
    result = run_cli("plan", "--stack", "dev", "--base", str(base))
    assert result.returncode == 2 and expected in result.stderr and "Traceback" not in result.stderr


# --- the engine the rotation needs ----------------------------------------------------------------------------


def test_the_project_requires_the_engine_that_honours_replacement_triggers():
    """`requiredPulumiVersion` (pulumi/pulumi `sdk/go/common/workspace/project.go`, CLI 3.219.0+) names the range
    the rotation needs: `replacement_trigger` since 3.208.0 (#20936), not fired by dependency changes since 3.226.0
    (#22119)."""
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["requiredPulumiVersion"] == REPLACEMENT_TRIGGER_ENGINE == ">=3.226.0"


def test_fails_rotating_past_generation_2_on_an_engine_without_replacement_triggers(monkeypatch):
    """An engine that does not announce `replacementTrigger` (SupportsFeature) would keep the retired key in its
    slot under the new generation's number: the program stops with the fix instead."""
    monkeypatch.setattr(settings, "monitor_supports_feature", lambda feature: False)
    assert identity_plan(2)["resources"]  # generation 2 fills an empty slot: no trigger needed
    with pytest.raises(Exception, match=r"key rotation to generation 3 needs a Pulumi CLI >=3\.226\.0"):
        identity_plan(3)


def test_the_readme_example_is_what_the_command_prints(tmp_path):
    """The README's `make plan BASE=` example: generation 2 to 3 on prod, line for line (the elided lines aside)."""
    readme = (ROOT / "README.md").read_text()
    example = readme.split("$ make plan STACK=prod BASE=deployed.json\n", 1)[1].split("```", 1)[0]
    saved = run_cli("plan", "--stack", "prod", "--stack-file", str(_rotation_stack_file(tmp_path, 2)), "--json")
    base = _write(tmp_path, "deployed.json", saved.stdout)
    result = run_cli("plan", "--stack", "prod", "--stack-file", str(_rotation_stack_file(tmp_path, 3)),
                     "--base", str(base))
    printed = result.stdout.replace(str(base), "deployed.json").splitlines()
    shown = [line for line in example.splitlines() if line.strip() != "..."]
    assert shown and all(line in printed for line in shown), [line for line in shown if line not in printed]


def test_every_type_the_stacks_declare_has_its_replacement_rule(prod_plan, dev_plan):
    """Each provider type this package declares names the inputs its provider replaces on (cli/provider_rules.py,
    taken from terraform-provider-aws v6 and terraform-provider-minio v1.20.1 source), so no change to it is
    silently taken for an update."""
    declared = {r.type for plan in (prod_plan, dev_plan) for r in plan.resources if r.custom}
    assert declared and declared <= set(provider_rules.FORCE_NEW), sorted(declared - set(provider_rules.FORCE_NEW))


def test_a_new_cost_allocation_tag_key_is_an_update_that_leaves_the_old_key_active(prod_plan):
    """terraform-provider-aws v6 internal/service/ce/cost_allocation_tag.go: `tag_key` is Required without ForceNew,
    and create and update both call UpdateCostAllocationTagsStatus: a changed key is activated in place, the old one
    stays active (nothing deactivates it)."""
    base = copy.deepcopy(prod_plan.as_dict())
    [tag] = [r for r in base["resources"] if r["type"] == "aws:costexplorer/costAllocationTag:CostAllocationTag"]
    tag["inputs"]["tagKey"] = "team"
    result = change.compare(base, prod_plan.as_dict(), "prod")
    assert [(s.op, s.resource.name) for s in result.steps if s.resource.type == tag["type"]] == [
        ("update", tag["name"])]
