"""Config shapes a careless or hostile user can type: the gate answers each with settings or a
SettingsError (never another exception), and the program never raises on a config the gate accepted, so
`pulumi up` can never stop half-way through declaring a stack."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings, strategies

from cli.offline import evaluate, run_main
from components.settings.gate import parse_settings
from components.settings.identities import EKS_SUBJECT, GITHUB_SUBJECT, oidc_subject_problem
from components.settings.types import SettingsError
from tests.helpers import as_config, stack_values

# Values that are wrong in every way the gate must notice, and right often enough to get past it.
plausible = strategies.sampled_from([
    "kms", "aes256", "public", "private", "django", "s3", "object-storage", "STANDARD_IA", "GLACIER", "DEEP_ARCHIVE",
    "us-west-2", "media/", "", "*", "https://x.example.com", "PriceClass_All", "minio", "aws", "true", "false",
    "7", "30", "400", "²", "-1", "x" * 70, "a.b", "max-age=60", "GET", "PATCH", "\n", "team<1>"])
scalars = strategies.one_of(strategies.none(), strategies.booleans(), strategies.integers(-5, 1000),
                            strategies.integers(min_value=10 ** 20, max_value=10 ** 40), strategies.floats(0, 500),
                            strategies.text(max_size=12), plausible,
                            # a number too long to read, as the CLI hands it over (text, see test_settings)
                            strategies.integers(300, 6000).map(lambda digits: "9" * digits))
keys = strategies.sampled_from([
    "dialect", "bucketName", "areas", "access", "prefix", "cacheControl", "presignSeconds", "cors", "origins",
    "methods", "lifecycle", "area", "transitions", "days", "storageClass", "expireDays", "region", "enabled",
    "priceClass", "domains", "bogus"]) | strategies.text(max_size=6)
values = strategies.recursive(scalars, lambda children: strategies.lists(children, max_size=3)
                              | strategies.dictionaries(keys, children, max_size=3), max_leaves=8)


def paths(value, prefix=()):
    """Every place in a config where a value can be replaced."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from paths(child, (*prefix, index))


def replaced(config: dict, path: tuple, value) -> dict:
    config = copy.deepcopy(config)
    if len(path) == 1:
        config[path[0]] = value
        return config
    holder = config
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    return config


# The kind of value each key holds (valid, or the edge of valid): enough of these pass the gate to
# exercise the program on configs nobody wrote by hand.
VOCABULARY = {
    "dialect": ["django", "s3", "object-storage", "laravel", "aws-sdk"], "access": ["public", "private"],
    "prefix": ["x/", "deep/er/", ""], "cacheControl": ["max-age=60", "no-store"], "presignSeconds": [1, 604800, "60"],
    "storageClass": ["STANDARD_IA", "GLACIER", "DEEP_ARCHIVE", "ONEZONE_IA"], "days": [30, 90, 365, 1000],
    "expireDays": [1, 400, 5000], "origins": [["https://a.example.com"], ["*"], ["http://localhost:3000"]],
    "methods": [["GET"], ["GET", "PUT", "POST", "DELETE", "HEAD"]], "maxAgeSeconds": [0, 86400],
    "region": ["us-west-2", "eu-west-1"], "enabled": [True, False], "allowAnyOrigin": [True, False],
    "priceClass": ["PriceClass_100", "PriceClass_200", "PriceClass_All"], "storageClassReplica": ["GLACIER"],
    "transitions": [[], [{"days": 30, "storageClass": "GLACIER"}]], "lifecycle": [[]], "cors": [[]],
    "areas": [{"files": {"access": "private"}}, {"pub": {"access": "public"}, "priv": {}}],
    "bucketName": ["x-y-z", "a.b.c", "b" * 63, "media.acme-eventhorizon-with-a-rather-long-name-here"],
    "app-storage:encryption": ["kms", "aes256"], "app-storage:versioning": [True, False],
    "app-storage:protectData": [True, False], "app-storage:forceDestroy": [True, False],
    "app-storage:tags": [{"team": "x"}, {}], "app-storage:bucketPrefix": ["acme", "", "a" * 40],
    "app-storage:cdn": [{"enabled": False}, {"enabled": True, "priceClass": "PriceClass_All"}],
    "app-storage:replication": [{"region": "eu-west-1", "replicationTimeControl": True}],
    "app-storage:publicWithoutCdn": [True, False], "app-storage:noncurrentVersionExpirationDays": [1, 36500],
}


@strategies.composite
def mutated_stacks(draw, typed: bool = False):
    """A shipped stack with one to three values replaced: by anything at all, or (`typed`) by a value of the
    kind that key holds, null included."""
    stack = draw(strategies.sampled_from(["prod", "dev"]))
    config = stack_values(stack)
    for _ in range(draw(strategies.integers(1, 3))):
        places = [p for p in paths(config) if p and (not typed or p[-1] in VOCABULARY)]
        where = draw(strategies.sampled_from(places))
        kind = strategies.none() | strategies.sampled_from(VOCABULARY[where[-1]]) if typed else values
        value = draw(kind)
        config = replaced(config, where, value)
    return stack, config


def parsed(stack: str, config: dict):
    try:
        return parse_settings(as_config(config), "app-storage", stack)
    except SettingsError as error:
        assert error.problems and all("\n" not in problem for problem in error.problems)
        return None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_stacks())
def test_the_gate_answers_every_config_with_settings_or_a_settings_error(case):
    stack, config = case
    parsed(stack, config)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(mutated_stacks(typed=True))
def test_the_program_never_raises_on_a_config_the_gate_accepted(case):
    stack, config = case
    if parsed(stack, config) is None:
        return
    plan = evaluate(stack, as_config(config), run_main)
    assert plan.resources


def null_cases():
    """Every place in prod; in dev only the stack's own keys (its apps are prod's, from Pulumi.yaml)."""
    for stack in ("prod", "dev"):
        for where in paths(stack_values(stack)):
            if where and (stack == "prod" or where[0] != "app-storage:apps"):
                yield pytest.param(stack, where, id=f"{stack}:{'.'.join(map(str, where))}")


@pytest.mark.parametrize("stack, where", list(null_cases()))
def test_null_anywhere_is_refused_or_planned_never_a_crash(stack, where):
    """Every place in the shipped stacks set to null (JSON's "unset"), one at a time."""
    config = replaced(stack_values(stack), where, None)
    if parsed(stack, config) is not None:
        assert evaluate(stack, as_config(config), run_main).resources


@settings(max_examples=300, deadline=None)
@given(strategies.tuples(strategies.sampled_from(["repo:", "system:serviceaccount:", "repo", "system:", "re", ""]),
                         strategies.text(alphabet="ab*?/:-", max_size=12)).map("".join))
def test_an_accepted_oidc_subject_confines_github_to_one_owner_and_eks_to_one_namespace(subject):
    """Whatever the subject, the gate answers; one it accepts can only match subjects of one GitHub owner
    (repo:<owner>/...) or one EKS namespace (system:serviceaccount:<namespace>:...), or is of another shape that is
    not only wildcards (GitHub Docs, "OpenID Connect reference"; Amazon EKS User Guide, "Assign IAM roles to
    Kubernetes service accounts")."""
    if oidc_subject_problem(subject) is not None:
        return
    literal = subject.split("*")[0].split("?")[0]
    assert literal, subject
    if subject.startswith(GITHUB_SUBJECT):
        owner, slash, _ = subject[len(GITHUB_SUBJECT):].partition("/")
        assert slash and owner and "*" not in owner and "?" not in owner, subject
    elif subject.startswith(EKS_SUBJECT):
        namespace, colon, _ = subject[len(EKS_SUBJECT):].partition(":")
        assert colon and namespace and "*" not in namespace and "?" not in namespace, subject
    elif literal != subject:  # a wildcard: it must not stand where `repo:` or `system:serviceaccount:` is spelled
        assert not GITHUB_SUBJECT.startswith(literal) and not EKS_SUBJECT.startswith(literal), subject
