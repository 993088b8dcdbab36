"""What pulumi-aws 7.51.1 and pulumi-minio 0.17.1 compute, without a cloud, for the functions (invokes) an offline
plan can answer.

Pure functions of the invoke's arguments (as Pulumi's mock runtime receives them: camelCase keys; the
snake_case keys of a plain dict argument are accepted too, as the bridge accepts them) and of the provider's
region. No Pulumi in here: `cli.offline.PlanMocks.call` routes the tokens in `MODELLED_INVOKES` to them, and the
mock monitor answers every other token as wholly unknown, as a preview would treat a value it cannot know.

Read from hashicorp/terraform-provider-aws (which pulumi-aws 7 bridges; v6):

* `internal/service/iam/policy_document_data_source.go` (commit 04e9356d7f061e7be1890e030f420c81a783d651) and
  `internal/service/iam/policy_model.go` (commit 084fd7bc4c3ce01ca0fa51a7016dc0287a00de30; the marshalling is
  the same in the earlier `IAMPolicyDoc` version of the file):
  - schema: `version` defaults to "2012-10-17" (only that or "2008-10-17"); a statement's `effect` defaults to
    "Allow" (only "Allow" or "Deny"); `sid` must match ^[a-zA-Z0-9]*$; `actions`, `not_actions`, `resources`,
    `not_resources`, `principals`, `not_principals` (type + a set of identifiers) and `condition` are sets,
    a condition's `values` a list; `source_json` / `override_json` must be empty ("Not used").
  - the document is built by merging, in order: each `source_policy_documents` entry (an empty or null entry
    is skipped; a Sid repeated across them is an error), then the statements of the configuration (a repeated
    non-empty Sid is an error), then each `override_policy_documents` entry. A merge adopts the newer document's
    Id when it has one and its Version when it compares greater as text; each of its statements replaces the
    first existing statement with the same non-empty Sid in place, or is appended (a statement without Sid is
    always appended).
  - a set of one string renders as that string; a larger one as a list sorted in reverse (descending) order.
    Condition values keep their order and render as a string when there is exactly one.
  - "&{" becomes "${" in resources, not_resources, principal identifiers and condition values (after the
    reverse sort); with version "2008-10-17" such a sequence is an error.
  - Principal: a single principal of type "*" with the identifier "*" renders as "*"; otherwise a map from type
    to identifiers, where the identifiers of several principals of the same type are concatenated in the
    order of the principals (each list sorted in reverse first; a lone string is kept as it is).
  - Condition: a map from test to a map from variable to the values of every condition with that test and
    variable, concatenated in the order of the conditions; a single value renders as a string.
  - JSON fields in the order Version, Id, Statement; Sid, Effect, Action, NotAction, Resource, NotResource,
    Principal, NotPrincipal, Condition; empty ones left out (omitempty); maps' keys sorted. `json` is
    `json.MarshalIndent(doc, "", "  ")`, `minified_json` is `json.Marshal(doc)`, the id is
    `create.StringHashcode(json)` (internal/create/hashcode.go: CRC-32 IEEE of the text, in decimal).
  - a source/override document is read with Go's `encoding/json` into that model: keys match the fields
    case-insensitively and unknown ones are ignored; Action/NotAction/Resource/NotResource keep whatever JSON
    value they hold; a string Principal becomes {"*": ["*"]}, a map's identifier lists are re-sorted; a
    Condition value that is a string becomes a one-value list, a boolean becomes the string "true"/"false",
    a list must hold strings, and anything else (a number, null, an object) is dropped.
* The order of a set is terraform-plugin-sdk v2's (`helper/schema/set.go`, `serialize.go`): elements sorted by
  the decimal text of their hash codes, compared as strings; a string element hashes as CRC-32 of "<s>;", a
  block as CRC-32 of its fields serialized in key order. It decides which of two same-type principals (or
  same test-and-variable conditions) comes first.
* Go's `encoding/json` output: <, > and & escaped as \\u003c \\u003e \\u0026, U+2028/U+2029 escaped, control
  characters as \\b \\f \\n \\r \\t or \\u00XX, other text as UTF-8; float64 numbers in the shortest form
  (exponent form below 1e-6 and from 1e21).
* `internal/service/meta/region_data_source.go` (v6): `region` (or the deprecated `name`, not both) selects a
  Region by its ID, `endpoint` by its EC2 endpoint host; neither: the provider's Region. An unknown Region is
  an error. Description from the endpoints data; endpoint the EC2 host ec2.<region>.<dnsSuffix>; id, name and
  region are all the Region's ID.
* `internal/service/meta/partition_data_source.go`: partition (and the deprecated id) of the provider's Region,
  its DNS suffix ("amazonaws.com" when none) and reverse DNS prefix (the suffix's labels reversed).
* Regions, descriptions, DNS suffixes and Region patterns: hashicorp/aws-sdk-go-base `endpoints/endpoints_gen.go`;
  a Region belongs to the partition that lists it or whose pattern it matches, else to "aws"
  (`names.PartitionForRegion`).

Read from aminueza/terraform-provider-minio v1.20.1 (which pulumi-minio 0.17.1 bridges, with minio-go v7.0.63,
json-iterator v1.1.12 and terraform-plugin-sdk v2), for `minio:index/getIamPolicyDocument:getIamPolicyDocument`:

* `minio/data_source_minio_iam_policy_document.go`:
  - schema: `version` defaults to "2012-10-17" (only that or "2008-10-17"); a statement's `effect` defaults to
    "Allow" (only "Allow" or "Deny"); `principal` is a string that may only be "*"; `sid` is not validated;
    `actions`, `resources`, `condition` and a condition's `values` are sets; `statement` is a list.
  - read: `source_json` (when not empty) is decoded straight into the document; then the configuration's
    document (`version`, `policy_id` as Id when not empty, the statements; a repeated non-empty sid is an error
    "found duplicate sid (<sid>), ...") is merged into it; then `override_json` (when not empty), decoded into a
    fresh document, is merged.
  - actions, resources and condition values: a set of one string becomes that string, a larger one a list sorted
    in reverse (policy_utils.go `minioDecodePolicyStringList`). "&{" becomes "${" in resources and condition
    values (with version "2008-10-17" such a sequence is an error); not in actions.
  - Principal is the string "*" or left out.
  - Condition: every condition block is read in the set's order, but each builds a fresh map that replaces the
    previous result (`out = condMap`), so only the set's last block is written: {test: {variable: values}}, the
    values gathered in a minio-go set.StringSet (minio-go `pkg/set/stringset.go`), which writes itself as a
    list sorted ascending even for one value, through json-iterator (`\\b`/`\\f` as `\\u0008`/`\\u000c`).
    A block with no values writes {test: {}}.
  - `json` is `json.MarshalIndent(doc, "", "  ")`; the id is `HashcodeString(json)` (utils.go: CRC-32 IEEE of
    the text, in decimal).
* `minio/policy_utils.go` `merge`: adopt the newer document's Id when it has one, its Version when it compares
  greater as text; each newer statement with a non-empty Sid replaces the first existing one with that Sid in
  place, or is appended; one without Sid is always appended.
* `minio/payload.go`: fields in the order Version, Id, Statement; Sid, Effect, Action, Resource, Principal,
  Condition. Version, Id, Effect, Principal are omitempty; Sid is always written (`"Sid": ""`); Statement is
  written even when there is none (`"Statement": null`); Action, Resource and Condition are `interface{}`, left
  out only when nil (so a source's "" or [] is kept). A source/override document is read with encoding/json into
  these structs: keys match case-insensitively, others (NotAction, NotResource, NotPrincipal, ...) are dropped,
  Action/Resource/Condition keep whatever JSON value they hold (numbers as float64, maps written with sorted
  keys), a non-string Principal (such as {"AWS": ...}) is an error, and a null statement is a nil pointer:
  written as null, but `merge` crashes the provider when it reaches one (comparing Sids with it, or merging it
  as an override's statement). A repeated "Statement" key decodes over the statements already read.
* The set order is terraform-plugin-sdk v2's, as above; a condition block hashes as
  "test:<test>;values:{<each value;> in set order};variable:<variable>;".
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

CALLER_IDENTITY = "aws:index/getCallerIdentity:getCallerIdentity"
POLICY_DOCUMENT = "aws:iam/getPolicyDocument:getPolicyDocument"
REGION = "aws:index/getRegion:getRegion"
PARTITION = "aws:index/getPartition:getPartition"
MINIO_POLICY_DOCUMENT = "minio:index/getIamPolicyDocument:getIamPolicyDocument"
# The invokes the offline plan answers; the mock monitor answers any other as wholly unknown.
MODELLED_INVOKES = frozenset({CALLER_IDENTITY, POLICY_DOCUMENT, REGION, PARTITION, MINIO_POLICY_DOCUMENT})

DEFAULT_VERSION = "2012-10-17"
VERSIONS = ("2008-10-17", "2012-10-17")
EFFECTS = ("Allow", "Deny")


class ProviderFunctionError(ValueError):
    """What the provider would report as the function's error diagnostic."""


# --- Go's encoding/json ------------------------------------------------------------------------------------------

_SHORT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _go_string(text: str, jsoniter: bool = False) -> str:
    """`text` as a JSON string, as Go's encoding/json writes it (with HTML escaping); `jsoniter`: as json-iterator
    v1.1.12's ConfigCompatibleWithStandardLibrary writes it (stream_str.go), which differs only in writing \\b and
    \\f as \\u0008 and \\u000c."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _SHORT_ESCAPES and not (jsoniter and char in "\b\f"):
            out.append(_SHORT_ESCAPES[char])
        elif code < 0x20 or char in "<>&\u2028\u2029":
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:  # a lone surrogate is not UTF-8: Go writes the replacement character
            out.append("\ufffd")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _go_float(number: float) -> str:
    """strconv.AppendFloat as encoding/json calls it for a float64."""
    magnitude = abs(number)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        text = repr(number)  # shortest digits, exponent form in this range, at least two exponent digits
        mantissa, _, exponent = text.partition("e")
        sign, digits = exponent[0], exponent[1:]
        if sign == "-" and len(digits) == 2 and digits[0] == "0":
            digits = digits[1:]  # Go cleans e-07 up to e-7
        return f"{mantissa}e{sign}{digits}"
    return format(Decimal(repr(number)).normalize(), "f")


class JsoniterString(str):
    """A string that reaches the output through a `MarshalJSON` built on json-iterator (minio-go's set.StringSet):
    encoding/json keeps that method's escapes (it only compacts and indents its output)."""


def go_json(value: Any, indent: bool = False, _depth: int = 0) -> str:
    """`value` as Go's json.Marshal (or json.MarshalIndent(value, "", "  ")) writes it. Dicts are written in their
    own order: callers build struct fields in declaration order and maps with sorted keys."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _go_string(value, jsoniter=isinstance(value, JsoniterString))
    if isinstance(value, (int, float)):
        return _go_float(float(value))
    if isinstance(value, dict):
        items = [f"{_go_string(key)}:{' ' if indent else ''}{go_json(item, indent, _depth + 1)}"
                 for key, item in value.items()]
        return _bracket("{", items, "}", indent, _depth)
    if isinstance(value, (list, tuple)):
        return _bracket("[", [go_json(item, indent, _depth + 1) for item in value], "]", indent, _depth)
    raise TypeError(f"no JSON form for {type(value).__name__}")


def _bracket(opening: str, items: list[str], closing: str, indent: bool, depth: int) -> str:
    if not items:
        return opening + closing
    if not indent:
        return opening + ",".join(items) + closing
    inner = "\n" + "  " * (depth + 1)
    return opening + inner + ("," + inner).join(items) + "\n" + "  " * depth + closing


class _Object(list):
    """A JSON object as read: its (key, value) pairs in document order, duplicates kept."""


def _go_number(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ProviderFunctionError(f"json: cannot unmarshal number {text} into Go value of type float64")
    return number


def _no_constant(text: str) -> Any:
    raise ProviderFunctionError(f"invalid character {text[0]!r} looking for beginning of value")


def _read_json(text: str, what: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_Object, parse_float=_go_number, parse_int=_go_number,
                          parse_constant=_no_constant)
    except ValueError as error:  # ProviderFunctionError is one too
        raise ProviderFunctionError(f"{what}: {error}") from None


def _go_any(value: Any) -> Any:
    """A value read into Go's `any`: objects become maps (last duplicate key wins; written with sorted keys)."""
    if isinstance(value, _Object):
        merged = dict(value)
        return {key: _go_any(merged[key]) for key in sorted(merged)}
    if isinstance(value, list):
        return [_go_any(item) for item in value]
    return value


def _go_type(value: Any) -> str:
    if isinstance(value, _Object):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, float):
        return "number"
    return "string" if isinstance(value, str) else "null"


def _struct_fields(obj: _Object, names: tuple[str, ...]) -> list[tuple[str, Any]]:
    """The (field, value) pairs Go decodes from `obj` into a struct with fields `names`: a key matches its field
    exactly or else case-insensitively; unknown keys are ignored; a later duplicate decodes over an earlier."""
    matched = []
    folded = {name.casefold(): name for name in names}
    for key, value in obj:
        name = key if key in names else folded.get(key.casefold())
        if name is not None:
            matched.append((name, value))
    return matched


# --- the policy document model (policy_model.go) -----------------------------------------------------------------

Principal = tuple[str, "str | list[str]"]
Condition = tuple[str, str, "str | list[str]"]


@dataclass
class _Statement:
    sid: str = ""
    effect: str = ""
    actions: Any = None
    not_actions: Any = None
    resources: Any = None
    not_resources: Any = None
    principals: list[Principal] = field(default_factory=list)
    not_principals: list[Principal] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)


@dataclass
class _Document:
    version: str = ""
    id: str = ""
    statements: list[_Statement] = field(default_factory=list)

    def merge(self, newer: _Document) -> None:
        if newer.id:
            self.id = newer.id
        if newer.version > self.version:
            self.version = newer.version
        for statement in newer.statements:
            if statement.sid:
                for index, existing in enumerate(self.statements):
                    if existing.sid == statement.sid:
                        self.statements[index] = statement
                        break
                else:
                    self.statements.append(statement)
            else:
                self.statements.append(statement)

    def as_go(self) -> dict:
        document: dict[str, Any] = {}
        if self.version:
            document["Version"] = self.version
        if self.id:
            document["Id"] = self.id
        if self.statements:
            document["Statement"] = [_statement_go(statement) for statement in self.statements]
        return document


def _statement_go(statement: _Statement) -> dict:
    rendered: dict[str, Any] = {}
    if statement.sid:
        rendered["Sid"] = statement.sid
    if statement.effect:
        rendered["Effect"] = statement.effect
    for name, value in (("Action", statement.actions), ("NotAction", statement.not_actions),
                        ("Resource", statement.resources), ("NotResource", statement.not_resources)):
        if value is not None:  # omitempty leaves out only a nil interface: "" and [] are written
            rendered[name] = value
    if statement.principals:
        rendered["Principal"] = _principals_go(statement.principals)
    if statement.not_principals:
        rendered["NotPrincipal"] = _principals_go(statement.not_principals)
    if statement.conditions:
        rendered["Condition"] = _conditions_go(statement.conditions)
    return rendered


def _principals_go(principals: list[Principal]) -> Any:
    if len(principals) == 1:
        kind, identifiers = principals[0]
        if kind == "*" and identifiers in ("*", ["*"]):
            return "*"
    by_type: dict[str, str | list[str]] = {}
    for kind, identifiers in principals:
        held = by_type.get(kind)
        if isinstance(identifiers, list):
            start: list[str] = [] if held is None else [held] if isinstance(held, str) else held
            by_type[kind] = start + sorted(identifiers, reverse=True)
        elif held is None:
            by_type[kind] = identifiers
        else:
            by_type[kind] = [held, identifiers] if isinstance(held, str) else held + [identifiers]
    return {kind: by_type[kind] for kind in sorted(by_type)}


def _conditions_go(conditions: list[Condition]) -> dict:
    by_test: dict[str, dict[str, list[str]]] = {}
    for test, variable, values in conditions:
        held = by_test.setdefault(test, {}).setdefault(variable, [])
        held.extend(values if isinstance(values, list) else [values])
    return {test: {variable: (values[0] if len(values) == 1 else values)
                   for variable, values in sorted(by_test[test].items())}
            for test in sorted(by_test)}


# --- a source or override document, as encoding/json reads it into that model ------------------------------------

_STATEMENT_FIELDS = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal",
                     "NotPrincipal", "Condition")


def _read_document(text: str, what: str) -> _Document:
    value = _read_json(text, what)
    document = _Document()
    if value is None:
        return document
    if not isinstance(value, _Object):
        raise ProviderFunctionError(f"{what}: json: cannot unmarshal {_go_type(value)} into Go value of type "
                                    "iam.IAMPolicyDoc")
    for name, item in _struct_fields(value, ("Version", "Id", "Statement")):
        if name == "Statement":
            document.statements = _read_statements(item, what)
        elif item is None:
            continue  # null leaves a string field as it was
        elif name == "Version":
            document.version = _go_string_field(item, name, what)
        else:
            document.id = _go_string_field(item, name, what)
    return document


def _go_string_field(value: Any, name: str, what: str) -> str:
    if not isinstance(value, str):
        raise ProviderFunctionError(f"{what}: json: cannot unmarshal {_go_type(value)} into Go struct field "
                                    f"{name} of type string")
    return value


def _read_statements(value: Any, what: str) -> list[_Statement]:
    if value is None:
        return []
    if not isinstance(value, list) or isinstance(value, _Object):
        raise ProviderFunctionError(f"{what}: json: cannot unmarshal {_go_type(value)} into Go struct field "
                                    "Statement of type []*iam.IAMPolicyStatement")
    statements = []
    for index, item in enumerate(value):
        if item is None:  # a nil *IAMPolicyStatement: the provider dereferences it and crashes
            raise ProviderFunctionError(f"{what}: statement {index} is null")
        if not isinstance(item, _Object):
            raise ProviderFunctionError(f"{what}: json: cannot unmarshal {_go_type(item)} into Go struct field "
                                        "Statement of type iam.IAMPolicyStatement")
        statements.append(_read_statement(item, what))
    return statements


def _read_statement(obj: _Object, what: str) -> _Statement:
    statement = _Statement()
    for name, value in _struct_fields(obj, _STATEMENT_FIELDS):
        if name in ("Sid", "Effect"):
            if value is not None:
                setattr(statement, name.lower(), _go_string_field(value, name, what))
        elif name in ("Action", "NotAction", "Resource", "NotResource"):
            attribute = {"Action": "actions", "NotAction": "not_actions", "Resource": "resources",
                         "NotResource": "not_resources"}[name]
            setattr(statement, attribute, _go_any(value))
        elif name in ("Principal", "NotPrincipal"):
            setattr(statement, "principals" if name == "Principal" else "not_principals",
                    _read_principals(value, what))
        else:
            statement.conditions = _read_conditions(value, what)
    return statement


def _read_principals(value: Any, what: str) -> list[Principal]:
    if isinstance(value, str):
        return [("*", ["*"])]
    if not isinstance(value, _Object):
        raise ProviderFunctionError(f"{what}: Unsupported data type {_go_type(value)} for "
                                    "IAMPolicyStatementPrincipalSet")
    principals: list[Principal] = []
    merged = dict(value)
    for kind in sorted(merged):
        identifiers = merged[kind]
        if isinstance(identifiers, str):
            principals.append((kind, identifiers))
        elif isinstance(identifiers, list) and not isinstance(identifiers, _Object):
            if not all(isinstance(item, str) for item in identifiers):
                raise ProviderFunctionError(f"{what}: principal type {kind!r}: identifiers must be strings")
            principals.append((kind, sorted(identifiers)))
        else:
            raise ProviderFunctionError(f"{what}: Unsupported data type {_go_type(identifiers)} for "
                                        "IAMPolicyStatementPrincipalSet.Identifiers")
    return principals


def _read_conditions(value: Any, what: str) -> list[Condition]:
    if value is None:
        return []
    if not isinstance(value, _Object):
        raise ProviderFunctionError(f"{what}: json: cannot unmarshal {_go_type(value)} into Go value of type "
                                    "map[string]map[string]interface {}")
    conditions: list[Condition] = []
    tests = dict(value)
    for test in sorted(tests):
        variables = tests[test]
        if variables is None:
            continue
        if not isinstance(variables, _Object):
            raise ProviderFunctionError(f"{what}: json: cannot unmarshal {_go_type(variables)} into Go value of "
                                        "type map[string]interface {}")
        merged = dict(variables)
        for variable in sorted(merged):
            values = merged[variable]
            if isinstance(values, str):
                conditions.append((test, variable, [values]))
            elif isinstance(values, bool):
                conditions.append((test, variable, "true" if values else "false"))
            elif isinstance(values, list) and not isinstance(values, _Object):
                if not all(isinstance(item, str) for item in values):  # the provider's type assertion panics
                    raise ProviderFunctionError(f"{what}: condition {test} {variable}: values must be strings")
                conditions.append((test, variable, list(values)))
            # a number, null or object is dropped, as the provider's type switch has no case for it
    return conditions


# --- the configuration (policy_document_data_source.go) ----------------------------------------------------------

_VARIABLE = "&{"
_SID = re.compile(r"[a-zA-Z0-9]*")


def _arg(args: Mapping[str, Any], camel: str) -> Any:
    """An argument by its Pulumi (camelCase) name, or by its snake_case name as a plain dict may carry it."""
    if camel in args:
        return args[camel]
    return args.get(re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), camel))


def _set_code(serialized: str) -> str:
    """The key terraform-plugin-sdk files a set element under: its CRC-32 hash code in decimal."""
    return str(zlib.crc32(serialized.encode("utf-8")))


def _set_order(items: list[Any], serialize: Callable[[Any], str]) -> list[Any]:
    """The elements of a set as `Set.List()` gives them: one per hash code (the first added), sorted by the
    codes' decimal text."""
    by_code: dict[str, Any] = {}
    for item in items:
        by_code.setdefault(_set_code(serialize(item)), item)
    return [by_code[code] for code in sorted(by_code)]


def _kinds(items: list) -> str:
    """What a list holds, by kind only: a value in the wrong place may be a secret the plan must not print."""
    return "a list of " + ", ".join(sorted({type(item).__name__ for item in items}))


def _strings(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ProviderFunctionError(f"{what}: expected a list of strings, got a {type(value).__name__}")
    items = [item for item in value if item is not None]
    if not all(isinstance(item, str) for item in items):
        raise ProviderFunctionError(f"{what}: expected a list of strings, got {_kinds(items)}")
    return items


def _string_set(value: Any, what: str) -> list[str]:
    return _set_order(_strings(value, what), lambda item: f"{item};")


def _decode_strings(items: list[str]) -> str | list[str]:
    """policyDecodeConfigStrings: the single element, or all of them sorted in reverse."""
    return items[0] if len(items) == 1 else sorted(items, reverse=True)


def _replace_variables(value: str | list[str], version: str, what: str) -> str | list[str]:
    for item in [value] if isinstance(value, str) else value:
        if version == "2008-10-17" and _VARIABLE in item:
            raise ProviderFunctionError(f"{what}: found &{{ sequence in ({item}), which is not supported in "
                                        "document version 2008-10-17")
    if isinstance(value, str):
        return value.replace(_VARIABLE, "${")
    return [item.replace(_VARIABLE, "${") for item in value]


def _blocks(value: Any, what: str) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, Mapping) for item in value if item is not None):
        raise ProviderFunctionError(f"{what}: expected a list of blocks, got a {type(value).__name__}")
    return [item for item in value if item is not None]


def _required(block: Mapping[str, Any], name: str, what: str) -> str:
    value = _arg(block, name)
    if not isinstance(value, str):
        raise ProviderFunctionError(f"{what}: the argument {name!r} is required and must be a string")
    return value


def _config_principals(value: Any, version: str, what: str) -> list[Principal]:
    blocks = []
    for block in _blocks(value, what):
        identifiers = _string_set(_arg(block, "identifiers"), f"{what}.identifiers")
        blocks.append((_required(block, "type", what), identifiers))
    # A principal block hashes as "identifiers:{<each identifier>;};type:<type>;".
    ordered = _set_order(blocks, lambda b: "identifiers:{" + "".join(f"{i};" for i in b[1]) + "};" + f"type:{b[0]};")
    return [(kind, _replace_variables(_decode_strings(identifiers), version, f"{what}.identifiers"))
            for kind, identifiers in ordered]


def _config_conditions(value: Any, version: str, what: str) -> list[Condition]:
    blocks = []
    for block in _blocks(value, what):
        values = _arg(block, "values")
        if values is None:
            raise ProviderFunctionError(f"{what}: the argument 'values' is required")
        if isinstance(values, str) or not isinstance(values, (list, tuple)):
            raise ProviderFunctionError(f"{what}.values: expected a list of strings, got a {type(values).__name__}")
        kept = ["" if item is None else item for item in values]  # expandStringListKeepEmpty
        if not all(isinstance(item, str) for item in kept):
            raise ProviderFunctionError(f"{what}.values: expected a list of strings, got {_kinds(kept)}")
        blocks.append((_required(block, "test", what), kept, _required(block, "variable", what)))
    # A condition block hashes as "test:<test>;values:(<each value>;);variable:<variable>;".
    ordered = _set_order(blocks, lambda b: f"test:{b[0]};values:(" + "".join(f"{v};" for v in b[1])
                         + f");variable:{b[2]};")
    conditions: list[Condition] = []
    for test, values, variable in ordered:
        replaced = _replace_variables(values, version, f"{what}.values")
        conditions.append((test, variable, replaced[0] if len(replaced) == 1 else replaced))
    return conditions


def _config_statement(block: Mapping[str, Any], version: str, where: str) -> _Statement:
    effect = _arg(block, "effect")
    effect = "Allow" if effect is None else effect
    if effect not in EFFECTS:
        raise ProviderFunctionError(f'{where}: expected effect to be one of ["Allow" "Deny"], got {effect}')
    sid = _arg(block, "sid") or ""
    if not isinstance(sid, str) or not _SID.fullmatch(sid):
        raise ProviderFunctionError(f"{where}: invalid value for sid (must only include alphanumeric characters)")
    statement = _Statement(sid=sid, effect=effect)
    for name, attribute, replaces in (("actions", "actions", False), ("notActions", "not_actions", False),
                                      ("resources", "resources", True), ("notResources", "not_resources", True)):
        items = _string_set(_arg(block, name), f"{where}.{name}")
        if items:
            decoded = _decode_strings(items)
            setattr(statement, attribute,
                    _replace_variables(decoded, version, f"reading {name}") if replaces else decoded)
    statement.principals = _config_principals(_arg(block, "principals"), version, f"{where}.principals")
    statement.not_principals = _config_principals(_arg(block, "notPrincipals"), version, f"{where}.notPrincipals")
    statement.conditions = _config_conditions(_arg(block, "conditions"), version, f"{where}.conditions")
    return statement


def _documents(value: Any, what: str) -> list[str]:
    """A list of JSON documents; a null or empty entry is skipped, as the provider skips it."""
    return [item for item in _strings(value, what) if item]


def policy_document(args: Mapping[str, Any]) -> dict:
    """The result of `aws:iam/getPolicyDocument:getPolicyDocument` for the invoke's arguments: `json` (indented),
    `minifiedJson`, `id`, and the arguments echoed (`version` with its default)."""
    for deprecated in ("sourceJson", "overrideJson"):
        if _arg(args, deprecated):
            raise ProviderFunctionError(f"expected {deprecated} to be an empty string (the provider no longer "
                                        "uses it; use sourcePolicyDocuments / overridePolicyDocuments)")
    version = _arg(args, "version")
    version = DEFAULT_VERSION if version is None else version
    if version not in VERSIONS:
        raise ProviderFunctionError(f'expected version to be one of ["2008-10-17" "2012-10-17"], got {version}')

    merged = _Document()
    source_sids: set[str] = set()
    for index, text in enumerate(_documents(_arg(args, "sourcePolicyDocuments"), "sourcePolicyDocuments")):
        source = _read_document(text, f"writing IAM Policy Document: merging source document {index}")
        for position, statement in enumerate(source.statements):
            if statement.sid:
                if statement.sid in source_sids:
                    raise ProviderFunctionError(
                        f"writing IAM Policy Document: merging source document {index}: duplicate Sid "
                        f"({statement.sid}) in source_policy_documents (statement {position}). Remove the Sid or "
                        "ensure Sids are unique.")
                source_sids.add(statement.sid)
        merged.merge(source)

    own = _Document(version=version, id=_arg(args, "policyId") or "")
    own_sids: set[str] = set()
    for index, block in enumerate(_blocks(_arg(args, "statements"), "statements")):
        statement = _config_statement(block, version, f"statements[{index}]")
        if statement.sid in own_sids:
            raise ProviderFunctionError(f"writing IAM Policy Document: duplicate Sid ({statement.sid}). Remove the "
                                        "Sid or ensure the Sid is unique.")
        if statement.sid:
            own_sids.add(statement.sid)
        own.statements.append(statement)
    merged.merge(own)

    for index, text in enumerate(_documents(_arg(args, "overridePolicyDocuments"), "overridePolicyDocuments")):
        merged.merge(_read_document(text, f"writing IAM Policy Document: merging override document {index}"))

    rendered = merged.as_go()
    indented = go_json(rendered, indent=True)
    result: dict[str, Any] = {"id": str(zlib.crc32(indented.encode("utf-8"))), "json": indented,
                              "minifiedJson": go_json(rendered), "version": version}
    for name in ("policyId", "sourcePolicyDocuments", "overridePolicyDocuments", "statements"):
        if _arg(args, name) is not None:
            result[name] = _arg(args, name)
    return result


# --- minio:index/getIamPolicyDocument (terraform-provider-minio v1.20.1) -------------------------------------------


@dataclass
class _MinioStatement:
    """payload.go `IAMPolicyStatement`."""
    sid: str = ""
    effect: str = ""
    actions: Any = None
    resources: Any = None
    principal: str = ""
    conditions: Any = None

    def as_go(self) -> dict:
        rendered: dict[str, Any] = {"Sid": self.sid}  # no omitempty: an empty Sid is written as ""
        if self.effect:
            rendered["Effect"] = self.effect
        if self.actions is not None:  # `interface{}` with omitempty: only nil is left out
            rendered["Action"] = self.actions
        if self.resources is not None:
            rendered["Resource"] = self.resources
        if self.principal:
            rendered["Principal"] = self.principal
        if self.conditions is not None:
            rendered["Condition"] = self.conditions
        return rendered


@dataclass
class _MinioDocument:
    """payload.go `IAMPolicyDoc`: `statements` None is a nil slice, written as `"Statement": null`; a null entry is
    a nil *IAMPolicyStatement, written as null."""
    version: str = ""
    id: str = ""
    statements: list[_MinioStatement | None] | None = None

    def merge(self, newer: _MinioDocument) -> None:
        """policy_utils.go `(*IAMPolicyDoc).merge`."""
        if newer.id:
            self.id = newer.id
        if newer.version > self.version:
            self.version = newer.version
        for statement in newer.statements or []:
            if statement is None:
                raise ProviderFunctionError(_NIL_STATEMENT)
            held = [] if self.statements is None else self.statements
            if statement.sid:
                for index, existing in enumerate(held):
                    if existing is None:
                        raise ProviderFunctionError(_NIL_STATEMENT)
                    if existing.sid == statement.sid:
                        held[index] = statement
                        break
                else:
                    held.append(statement)
            else:
                held.append(statement)
            self.statements = held

    def as_go(self) -> dict:
        document: dict[str, Any] = {}
        if self.version:
            document["Version"] = self.version
        if self.id:
            document["Id"] = self.id
        document["Statement"] = (None if self.statements is None
                                 else [None if s is None else s.as_go() for s in self.statements])
        return document


_NIL_STATEMENT = ("runtime error: invalid memory address or nil pointer dereference (a null statement in "
                  "source_json or override_json)")
_MINIO_STATEMENT_FIELDS = ("Sid", "Effect", "Action", "Resource", "Principal", "Condition")


def _read_minio_document(text: str, what: str) -> _MinioDocument:
    """`json.Unmarshal` of a source_json / override_json text into a fresh IAMPolicyDoc."""
    value = _read_json(text, what)
    document = _MinioDocument()
    if value is None:
        return document
    if not isinstance(value, _Object):
        raise ProviderFunctionError(f"{what}: json: cannot unmarshal {_go_type(value)} into Go value of type "
                                    "minio.IAMPolicyDoc")
    # The Statement slice's backing array as far as it was ever written: a repeated "Statement" key decodes its
    # entries into the statements already there (a key it leaves out keeps its value), as Go reuses them.
    slots: list[_MinioStatement | None] = []
    for name, item in _struct_fields(value, ("Version", "Id", "Statement")):
        if name == "Statement":
            if item is None:
                document.statements, slots = None, []
                continue
            if not isinstance(item, list) or isinstance(item, _Object):
                raise ProviderFunctionError(f"{what}: json: cannot unmarshal {_go_type(item)} into Go struct field "
                                            "IAMPolicyDoc.Statement of type []*minio.IAMPolicyStatement")
            for index, entry in enumerate(item):
                target: _MinioStatement | None = None
                if isinstance(entry, _Object):
                    held = slots[index] if index < len(slots) else None
                    target = _read_minio_statement(entry, _MinioStatement() if held is None else held, what)
                elif entry is not None:
                    raise ProviderFunctionError(f"{what}: json: cannot unmarshal {_go_type(entry)} into Go struct "
                                                "field IAMPolicyDoc.Statement of type minio.IAMPolicyStatement")
                if index < len(slots):
                    slots[index] = target
                else:
                    slots.append(target)
            document.statements = slots[:len(item)]
        elif item is None:
            continue  # null leaves a string field as it was
        elif name == "Version":
            document.version = _go_string_field(item, f"IAMPolicyDoc.{name}", what)
        else:
            document.id = _go_string_field(item, f"IAMPolicyDoc.{name}", what)
    return document


def _read_minio_statement(obj: _Object, statement: _MinioStatement, what: str) -> _MinioStatement:
    for name, value in _struct_fields(obj, _MINIO_STATEMENT_FIELDS):
        if name in ("Sid", "Effect", "Principal"):
            if value is not None:  # null leaves a string field as it was
                setattr(statement, name.lower(), _go_string_field(value, f"IAMPolicyDoc.Statement.{name}", what))
        else:  # Action, Resource, Condition are `interface{}`: they hold whatever JSON value is there
            setattr(statement, {"Action": "actions", "Resource": "resources", "Condition": "conditions"}[name],
                    _go_any(value))
    return statement


def _minio_conditions(value: Any, version: str, where: str) -> dict | None:
    """dataSourceMinioIAMPolicyDocumentMakeConditions: every condition block is read (and its values checked) in the
    order of the set, but each one's map replaces the last, so only the set's last block is written:
    {test: {variable: values}}, the values a set.StringSet, written sorted as a list."""
    blocks = []
    for block in _blocks(value, f"{where}.conditions"):
        values = _arg(block, "values")
        if values is None:
            raise ProviderFunctionError(f"{where}.conditions: the argument 'values' is required")
        blocks.append((_required(block, "test", f"{where}.conditions"), _string_set(values, f"{where}.conditions"),
                       _required(block, "variable", f"{where}.conditions")))
    # A condition block hashes as "test:<test>;values:{<each value, in set order>;};variable:<variable>;".
    ordered = _set_order(blocks, lambda b: f"test:{b[0]};values:{{" + "".join(f"{v};" for v in b[1])
                         + f"}};variable:{b[2]};")
    conditions = None
    for test, values, variable in ordered:
        replaced = _replace_variables(_decode_strings(values), version, "error reading condition: error reading values")
        held = [replaced] if isinstance(replaced, str) else replaced
        conditions = {test: {variable: [JsoniterString(v) for v in sorted(set(held))]} if held else {}}
    return conditions


def minio_policy_document(args: Mapping[str, Any]) -> dict:
    """The result of `minio:index/getIamPolicyDocument:getIamPolicyDocument` for the invoke's arguments: `json`,
    `id`, and the arguments echoed (`version` with its default)."""
    version = _arg(args, "version")
    version = DEFAULT_VERSION if version is None else version
    if version not in VERSIONS:
        raise ProviderFunctionError(f'expected version to be one of ["2008-10-17" "2012-10-17"], got {version}')
    blocks = _blocks(_arg(args, "statements"), "statements")
    for index, block in enumerate(blocks):  # the schema's validation, before the read
        effect = _arg(block, "effect")
        if effect is not None and effect not in EFFECTS:
            raise ProviderFunctionError(f'expected statement.{index}.effect to be one of ["Allow" "Deny"], got '
                                        f"{effect}")
        principal = _arg(block, "principal")
        if principal is not None and principal != "*":
            raise ProviderFunctionError(f'expected statement.{index}.principal to be one of ["*"], got {principal}')

    source = _arg(args, "sourceJson")
    merged = _read_minio_document(source, "source_json") if source else _MinioDocument()

    own = _MinioDocument(version=version, id=_arg(args, "policyId") or "")
    if blocks:
        own.statements = []
        sids: set[str] = set()
        for index, block in enumerate(blocks):
            where = f"statements[{index}]"
            sid = _arg(block, "sid") or ""
            if not isinstance(sid, str):
                raise ProviderFunctionError(f"{where}.sid: expected a string, got a {type(sid).__name__}")
            if sid in sids:
                raise ProviderFunctionError(f"found duplicate sid ({sid}), either remove the sid or ensure the sid is "
                                            "unique across all statements")
            if sid:
                sids.add(sid)
            effect = _arg(block, "effect")
            statement = _MinioStatement(sid=sid, effect="Allow" if effect is None else effect,
                                        principal=_arg(block, "principal") or "")
            actions = _string_set(_arg(block, "actions"), f"{where}.actions")
            if actions:
                statement.actions = _decode_strings(actions)
            resources = _string_set(_arg(block, "resources"), f"{where}.resources")
            if resources:
                statement.resources = _replace_variables(_decode_strings(resources), version,
                                                         "error reading resources")
            statement.conditions = _minio_conditions(_arg(block, "conditions"), version, where)
            own.statements.append(statement)
    merged.merge(own)

    override = _arg(args, "overrideJson")
    if override:
        merged.merge(_read_minio_document(override, "override_json"))

    indented = go_json(merged.as_go(), indent=True)
    result: dict[str, Any] = {"id": str(zlib.crc32(indented.encode("utf-8"))), "json": indented, "version": version}
    for name in ("policyId", "sourceJson", "overrideJson", "statements"):
        if _arg(args, name) is not None:
            result[name] = _arg(args, name)
    return result


# --- Regions and partitions --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Partition:
    id: str
    dns_suffix: str
    region_pattern: str
    regions: dict[str, str]
    """Region ID -> description."""

    def matches(self, region: str) -> bool:
        return region in self.regions or re.fullmatch(self.region_pattern, region, re.ASCII) is not None


PARTITIONS = (
    Partition("aws", "amazonaws.com", r"(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+", {
        "af-south-1": "Africa (Cape Town)",
        "ap-east-1": "Asia Pacific (Hong Kong)",
        "ap-east-2": "Asia Pacific (Taipei)",
        "ap-northeast-1": "Asia Pacific (Tokyo)",
        "ap-northeast-2": "Asia Pacific (Seoul)",
        "ap-northeast-3": "Asia Pacific (Osaka)",
        "ap-south-1": "Asia Pacific (Mumbai)",
        "ap-south-2": "Asia Pacific (Hyderabad)",
        "ap-southeast-1": "Asia Pacific (Singapore)",
        "ap-southeast-2": "Asia Pacific (Sydney)",
        "ap-southeast-3": "Asia Pacific (Jakarta)",
        "ap-southeast-4": "Asia Pacific (Melbourne)",
        "ap-southeast-5": "Asia Pacific (Malaysia)",
        "ap-southeast-6": "Asia Pacific (New Zealand)",
        "ap-southeast-7": "Asia Pacific (Thailand)",
        "ca-central-1": "Canada (Central)",
        "ca-west-1": "Canada West (Calgary)",
        "eu-central-1": "Europe (Frankfurt)",
        "eu-central-2": "Europe (Zurich)",
        "eu-north-1": "Europe (Stockholm)",
        "eu-south-1": "Europe (Milan)",
        "eu-south-2": "Europe (Spain)",
        "eu-west-1": "Europe (Ireland)",
        "eu-west-2": "Europe (London)",
        "eu-west-3": "Europe (Paris)",
        "il-central-1": "Israel (Tel Aviv)",
        "me-central-1": "Middle East (UAE)",
        "me-south-1": "Middle East (Bahrain)",
        "mx-central-1": "Mexico (Central)",
        "sa-east-1": "South America (Sao Paulo)",
        "us-east-1": "US East (N. Virginia)",
        "us-east-2": "US East (Ohio)",
        "us-west-1": "US West (N. California)",
        "us-west-2": "US West (Oregon)",
    }),
    Partition("aws-cn", "amazonaws.com.cn", r"cn\-\w+\-\d+", {
        "cn-north-1": "China (Beijing)",
        "cn-northwest-1": "China (Ningxia)",
    }),
    Partition("aws-eusc", "amazonaws.eu", r"eusc\-(de)\-\w+\-\d+", {
        "eusc-de-east-1": "AWS European Sovereign Cloud (Germany)",
    }),
    Partition("aws-iso", "c2s.ic.gov", r"us\-iso\-\w+\-\d+", {
        "us-iso-east-1": "US ISO East",
        "us-iso-west-1": "US ISO WEST",
    }),
    Partition("aws-iso-b", "sc2s.sgov.gov", r"us\-isob\-\w+\-\d+", {
        "us-isob-east-1": "US ISOB East (Ohio)",
        "us-isob-west-1": "US ISOB West",
    }),
    Partition("aws-iso-e", "cloud.adc-e.uk", r"eu\-isoe\-\w+\-\d+", {
        "eu-isoe-west-1": "EU ISOE West",
    }),
    Partition("aws-iso-f", "csp.hci.ic.gov", r"us\-isof\-\w+\-\d+", {
        "us-isof-east-1": "US ISOF EAST",
        "us-isof-south-1": "US ISOF SOUTH",
    }),
    Partition("aws-us-gov", "amazonaws.com", r"us\-gov\-\w+\-\d+", {
        "us-gov-east-1": "AWS GovCloud (US-East)",
        "us-gov-west-1": "AWS GovCloud (US-West)",
    }),
)


def partition_of(region_id: str) -> Partition:
    """The partition that lists `region_id` or whose pattern it matches; else the standard one."""
    for candidate in PARTITIONS:
        if candidate.matches(region_id):
            return candidate
    return PARTITIONS[0]


def _ec2_host(region_id: str) -> str:
    return f"ec2.{region_id}.{partition_of(region_id).dns_suffix}"


def _known_region(region_id: str) -> str:
    for candidate in PARTITIONS:
        if region_id in candidate.regions:
            return region_id
    raise ProviderFunctionError(f"finding Region by name ({region_id}): couldn't find resource")


def region(args: Mapping[str, Any], provider_region: str) -> dict:
    """The result of `aws:index/getRegion:getRegion`: the Region the arguments select, else the provider's."""
    endpoint, name, wanted = args.get("endpoint"), args.get("name"), args.get("region")
    if name is not None and wanted is not None:
        raise ProviderFunctionError('Invalid Attribute Combination: attribute "region" cannot be specified when '
                                    '"name" is specified')
    found = None
    if endpoint is not None:
        found = next((r for p in PARTITIONS for r in p.regions if _ec2_host(r) == endpoint), None)
        if found is None:
            raise ProviderFunctionError(f"finding Region by endpoint ({endpoint}): couldn't find resource")
    selected = wanted or name
    if selected:
        matching = _known_region(str(selected))
        if found is not None and found != matching:
            raise ProviderFunctionError("multiple Regions matched: use additional constraints to reduce matches to "
                                        "a single Region")
        found = matching
    found = found or _known_region(provider_region)
    description = partition_of(found).regions[found]
    return {"description": description, "endpoint": _ec2_host(found), "id": found, "name": found, "region": found}


def partition(provider_region: str) -> dict:
    """The result of `aws:index/getPartition:getPartition` for the provider's Region."""
    owner = partition_of(provider_region) if provider_region else None  # no Region: the empty partition
    suffix = owner.dns_suffix if owner else "amazonaws.com"
    return {"dnsSuffix": suffix, "id": owner.id if owner else "", "partition": owner.id if owner else "",
            "reverseDnsPrefix": ".".join(reversed(suffix.split(".")))}
