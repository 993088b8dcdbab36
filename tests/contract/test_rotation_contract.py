"""Key rotation on moto's IAM, driven by the change model: every `pulumi up` from one generation to the next is
applied to the server step by step, in the order `make plan BASE=` prints, never by hand. moto keeps IAM's quota
(`LimitExceeded: Cannot exceed quota for AccessKeysPerUser: 2`, moto/iam/models.py), so a step the model orders
wrongly fails here as it would on AWS.
"""

from __future__ import annotations

import copy

import pytest
from botocore.exceptions import ClientError

from cli import change
from cli.offline import evaluate, run_main
from tests.contract.moto_server import MotoServer
from tests.helpers import as_config, generation_named_plan, stack_values

BUCKET = "app-storage-prod-vista"
USER = "app-storage-prod-vista"
RUNBOOK = [(1, False), (2, False), (2, True), (3, False), (4, False), (4, True), (5, False), (6, False)]
"""Generations as the README's runbook walks them: raise by one, retire, raise again (retiring on the raise)."""
EMPTY: dict = {"resources": [], "outputs": {}}


def vista_plan(generation: int, retire_previous: bool) -> dict:
    """The prod stack with only the VISTA app, its identity at `generation`."""
    values = copy.deepcopy(stack_values("prod"))
    vista = values["app-storage:apps"]["vista"]
    vista["identity"] = {"rotation": {"generation": generation, "retirePrevious": retire_previous}}
    values["app-storage:apps"] = {"vista": vista}
    return evaluate("prod", as_config(values), run_main).as_dict()


class DeployedKeys:
    """The server's access keys by the URN of the resource that holds them, changed only by the model's steps."""

    def __init__(self, iam):
        self.iam = iam
        self.by_urn: dict[str, dict] = {}
        self.retired: list[dict] = []
        self.step = 0
        """The number of the step being applied (as the model numbers them)."""

    def up(self, result: change.Change) -> None:
        created = {}
        for self.step, step in enumerate(result.steps, 1):
            if step.resource.type != change.ACCESS_KEY:
                continue
            if step.op in ("delete", "delete-replaced"):
                key = self.by_urn.pop(step.resource.urn)
                self.iam.delete_access_key(UserName=key["UserName"], AccessKeyId=key["AccessKeyId"])
                self.retired.append(key)
            else:
                created[step.resource.urn] = self.iam.create_access_key(
                    UserName=step.resource.inputs["user"])["AccessKey"]
        self.by_urn.update(created)

    def of(self, plan: dict) -> dict[int, dict]:
        """The server's key for each generation the plan's outputs list."""
        return {generation: self.by_urn[urn] for urn, (_, generation, _) in change.live_keys(plan).items()}


@pytest.fixture()
def server():
    with MotoServer() as moto:
        plan = vista_plan(1, False)
        group_policy = next(r["inputs"]["policy"] for r in plan["resources"]
                            if r["type"] == "aws:iam/groupPolicy:GroupPolicy")
        s3, iam = moto.client("s3"), moto.client("iam")
        s3.create_bucket(Bucket=BUCKET)
        iam.create_user(UserName=USER)
        iam.create_group(GroupName="vista-access")
        iam.put_group_policy(GroupName="vista-access", PolicyName="access", PolicyDocument=group_policy)
        iam.add_user_to_group(GroupName="vista-access", UserName=USER)
        moto.enforce_iam()
        yield moto


def _s3_with(server, key: dict):
    return server.client("s3", key["AccessKeyId"], key["SecretAccessKey"])


def test_rotation_through_generations_1_to_6_in_the_models_order(server):
    """At every stage the current key and the previous one (while it lives) work, retired keys are refused, and the
    server never holds more than two: each `pulumi up` applied in the model's order."""
    keys = DeployedKeys(server.client("iam"))
    plans = {state: vista_plan(*state) for state in RUNBOOK}
    with server.iam_relaxed():
        keys.up(change.compare(EMPTY, plans[RUNBOOK[0]], "prod"))
    for before, after in zip(RUNBOOK, RUNBOOK[1:], strict=False):
        result = change.compare(plans[before], plans[after], "prod")
        retiring_on_the_raise = after[1] and after[0] > before[0]
        assert [h.kind for h in result.hazards] == (["current-key"] if retiring_on_the_raise else []), result.hazards
        if retiring_on_the_raise:
            continue  # refused by the model: the .env's key would go in the update that makes its successor
        with server.iam_relaxed():
            keys.up(result)
            assert len(server.client("iam").list_access_keys(UserName=USER)["AccessKeyMetadata"]) <= 2
        live = keys.of(plans[after])
        assert sorted(live) == sorted({after[0], after[0] - 1} - {0} if not after[1] else {after[0]})
        for generation, key in live.items():
            _s3_with(server, key).put_object(Bucket=BUCKET, Key=f"projects/g{generation}.txt", Body=b"ok")
        for key in keys.retired:
            with pytest.raises(ClientError) as refused:
                _s3_with(server, key).list_objects_v2(Bucket=BUCKET, Prefix="projects/")
            assert refused.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    assert len(keys.retired) == 4  # generations 1-4 retired on the way to 6 (5 and 6 live)


def test_the_earlier_design_fails_on_iam_at_the_step_the_model_names(server):
    """Keys named by generation, from generation 2 to 3: the model names the third key at its create step, and IAM
    refuses exactly that step."""
    keys = DeployedKeys(server.client("iam"))
    deployed = EMPTY
    for state in ((1, False), (2, False)):
        plan = generation_named_plan(*state, user=USER)
        with server.iam_relaxed():
            keys.up(change.compare(deployed, plan, "prod"))
        deployed = plan
    result = change.compare(deployed, generation_named_plan(3, user=USER), "prod")
    [hazard] = result.hazards
    assert hazard.kind == "access-keys"
    assert result.steps[hazard.step - 1].op == "create"
    with server.iam_relaxed(), pytest.raises(ClientError) as refused:
        keys.up(result)
    assert refused.value.response["Error"]["Code"] == "LimitExceeded"
    assert "AccessKeysPerUser: 2" in refused.value.response["Error"]["Message"]
    assert keys.step == hazard.step
