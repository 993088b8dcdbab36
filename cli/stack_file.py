"""Pulumi's YAML files (`Pulumi.yaml`, `Pulumi.<stack>.yaml`) read the way the Pulumi CLI reads them.

The CLI parses them with Go's yaml.v3, which follows YAML 1.2: `no`, `on` and `1:30` are text, merge keys
(`<<:`) work, a timestamp-looking value into an untyped target stays text, and aliases that blow up the
document are refused. PyYAML follows YAML 1.1 and would read `protectData: no` as false where the CLI
passes the text "no" on, so `make plan` would say "unprotected, plan ok" where `pulumi up` differs. The
reader here is ruamel.yaml in YAML 1.2 mode (the maintained YAML 1.2 parser for Python), with the CLI's
own refusals added.

Every problem is one `StackFileError` line naming the file; nothing here raises anything else.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import DuplicateKeyError, SafeConstructor
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from components.messages import one_line

# More values than this, once aliases are expanded, is a YAML "billion laughs", not a stack file (yaml.v3
# refuses such documents as "excessive aliasing").
MAX_EXPANDED_VALUES = 100_000
# Deeper than this no config is, and Python's JSON decoder (the program reads structured config as JSON)
# would not get through it.
MAX_DEPTH = 64


class StackFileError(Exception):
    """A Pulumi YAML file the CLI would refuse, or that no program could read; exit code 2."""


class _CliConstructor(SafeConstructor):
    """yaml.v3's view of scalars: timestamps stay text; binary is refused (config values are text)."""


def _timestamp_as_text(constructor: SafeConstructor, node: ScalarNode) -> str:
    return constructor.construct_scalar(node)


def _refuse_binary(constructor: SafeConstructor, node: ScalarNode) -> None:
    raise StackFileError(f"line {node.start_mark.line + 1}: a !!binary value is not config text; write the "
                         "value as plain text")


DECIMAL_INTEGER = re.compile(r"[-+]?[0-9_]+")


def _integer_or_text(constructor: SafeConstructor, node: ScalarNode) -> int | str:
    """yaml.v3 reads an integer beyond 64 bits as a float, and one beyond a float's range (strconv.ParseFloat's
    ErrRange: some 309 decimal digits) as text (resolve.go). Python would build the int, and refuse past 4300
    digits with advice about sys.set_int_max_str_digits; kept as text, the setting's own check names the key."""
    text = constructor.construct_scalar(node)
    digits = text.replace("_", "").lstrip("+-")
    if DECIMAL_INTEGER.fullmatch(text) and (not digits or math.isinf(float(digits))):  # `+_` has no digits: text too
        return text
    return SafeConstructor.construct_yaml_int(constructor, node)


_CliConstructor.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)
_CliConstructor.add_constructor("tag:yaml.org,2002:int", _integer_or_text)
_CliConstructor.add_constructor("tag:yaml.org,2002:binary", _refuse_binary)


def _parser() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.version = (1, 2)
    yaml.Constructor = _CliConstructor
    yaml.allow_duplicate_keys = False
    return yaml


def read_yaml_map(path: Path) -> tuple[dict, dict]:
    """The file as (data, top-level scalars as written): the data holds only text keys, text, numbers,
    booleans, null, lists and maps, at most MAX_DEPTH deep and MAX_EXPANDED_VALUES values large. The second
    map gives, for each `config:` key whose value is a scalar, that scalar's text as the CLI stores it."""
    name = path.name
    try:
        if not path.is_file():
            raise StackFileError(f"{path}: not a file; name a stack file like Pulumi.<stack>.yaml")
        raw = path.read_bytes()
    except OSError as error:
        raise StackFileError(f"{name} cannot be read: {error.strerror or error}") from None
    try:
        text = _decode(raw)
        yaml = _parser()
        node = yaml.compose(text)
        _check_size(node)  # on the node graph, before construction could expand an alias bomb
        document = None if node is None else yaml.constructor.construct_document(node)
    except StackFileError as error:
        raise StackFileError(one_line(f"{name}: {error}")) from None
    except DuplicateKeyError as error:
        key = re.search(r'duplicate key "(.*)" with value', error.problem or "")
        line = error.problem_mark.line + 1 if error.problem_mark else "?"
        raise StackFileError(one_line(f"{name}: line {line}: key {key.group(1) if key else '?'!r} appears twice; "
                                      "keep one (the last would silently win)")) from None
    except YAMLError as error:
        raise StackFileError(one_line(f"{name} is not valid YAML: {' '.join(str(error).split())}")) from None
    except RecursionError:
        raise StackFileError(f"{name}: nested deeper than YAML can be read here; flatten the value") from None
    except (ValueError, OverflowError) as error:  # e.g. an integer of thousands of digits
        raise StackFileError(one_line(f"{name}: a value cannot be read ({error}); write it as text")) from None
    if document is None:
        return {}, {}
    if not isinstance(document, dict):
        raise StackFileError(f"{name}: the file must be a map with a `config:` section, not a "
                             f"{_kind(document)}; see Pulumi.prod.yaml for the shape")
    try:
        _check_values(document)
    except StackFileError as error:
        raise StackFileError(one_line(f"{name}: {error}")) from None
    return document, _top_level_config_text(node)


# Longest first: the UTF-32 little-endian mark starts with the UTF-16 one.
BYTE_ORDER_MARKS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
                    (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def _decode(raw: bytes) -> str:
    """UTF-8, or UTF-16/32 with a byte-order mark, as YAML allows; a UTF-8 mark is dropped."""
    codec = next((codec for mark, codec in BYTE_ORDER_MARKS if raw.startswith(mark)), "utf-8")
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as error:
        raise StackFileError(f"is not {codec.upper().replace('-SIG', '')} text (byte {error.start}); save it as "
                             "UTF-8") from None


def _check_size(root: Any) -> None:
    """Walk the node graph as the CLI would expand it, and stop at the first sign of a bomb."""
    if root is None:
        return
    stack = [(root, 1)]
    seen = 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > MAX_EXPANDED_VALUES:
            raise StackFileError(f"expands to more than {MAX_EXPANDED_VALUES:,} values through YAML aliases; the "
                                 "Pulumi CLI refuses such excessive aliasing too. Write the values out")
        if depth > MAX_DEPTH:
            raise StackFileError(f"line {node.start_mark.line + 1}: nested more than {MAX_DEPTH} levels deep, or a "
                                 "YAML alias refers to the value that contains it; write the value out")
        if isinstance(node, MappingNode):
            stack.extend((child, depth + 1) for pair in node.value for child in pair)
        elif isinstance(node, SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)


def _check_values(document: Any) -> None:
    """Only what JSON and Pulumi config can carry: text keys, finite numbers, no sets."""
    stack = [(document, "")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict):
            for key, child in value.items():
                if not isinstance(key, str):
                    raise StackFileError(f"key {key!r}{where and f' under {where}'} is not text; quote it")
                stack.append((child, f"{where}.{key}" if where else key))
        elif isinstance(value, list):
            stack.extend((child, f"{where}[{index}]") for index, child in enumerate(value))
        elif isinstance(value, float) and not math.isfinite(value):
            raise StackFileError(f"{where}: {value} is not a number config can hold; quote it if it is text")
        elif value is not None and not isinstance(value, (str, int, float, bool)):
            raise StackFileError(f"{where}: a {_kind(value)} is not a config value")


def _top_level_config_text(root: Any) -> dict:
    """`config:` key -> the scalar's text, as the CLI stores a scalar stack value (null as empty text)."""
    if not isinstance(root, MappingNode):
        return {}
    texts = {}
    for key, value in root.value:
        if isinstance(key, ScalarNode) and key.value == "config" and isinstance(value, MappingNode):
            for config_key, config_value in value.value:
                if isinstance(config_key, ScalarNode) and isinstance(config_value, ScalarNode):
                    null = str(config_value.tag).endswith(":null") and config_value.style is None
                    texts[config_key.value] = "" if null else config_value.value
    return texts


def _kind(value: Any) -> str:
    return {"str": "text", "int": "number", "float": "number", "bool": "boolean"}.get(
        type(value).__name__, type(value).__name__)
