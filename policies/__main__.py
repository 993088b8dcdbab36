"""The storage-guard policy pack: `pulumi preview --policy-pack policies [--policy-pack-config policies/<s>.json]`.

Only assembles the pack; the rules live in `rules/`. Constructing the PolicyPack starts the analyzer's gRPC server
and blocks: that is how the Pulumi engine (or `make policy`) talks to it.
"""

from pulumi_policy import EnforcementLevel, PolicyPack
from rules import PACK_NAME, RULES
from rules.pack import as_policy

PolicyPack(name=PACK_NAME, policies=[as_policy(rule) for rule in RULES], enforcement_level=EnforcementLevel.MANDATORY)
