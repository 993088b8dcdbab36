"""Generic readers: each records a problem and returns a usable fallback, so that parsing goes on and every
problem is found in one run. Every message is one line: key path, problem, the bad value (never for keys that
may hold secrets), and the fix."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from components.messages import one_line

SHOWN_VALUE_MAX = 120
HIDDEN = object()
"""A value never echoed (an unknown key may hold a password)."""


NUMBER_TEXT = re.compile(r"[-+]?[0-9]+")


def show(value: Any) -> str:
    """The value as the message shows it: short, one line, and safe for any size of number (a number too long to
    read, in the file as digits or built as an int, is shown by its length; Python's str() of an int past 4300
    digits raises)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"a number of {len(format(value, 'x'))} hex digits"
    if isinstance(value, str) and len(value) > SHOWN_VALUE_MAX and NUMBER_TEXT.fullmatch(value):
        return f"a number of {len(value.lstrip('+-')):,} digits"
    try:
        text = repr(value) if isinstance(value, str) else json.dumps(value, default=repr)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= SHOWN_VALUE_MAX else text[:SHOWN_VALUE_MAX] + "…"


class Problems:
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.keys: list[str] = []
        """The key path each message is about, in the same order (a component call reports it as the input's)."""

    def add(self, key: str, value: Any, problem: str, fix: str) -> None:
        shown = "" if value is HIDDEN else f" (got {show(value)})"
        self.messages.append(one_line(f"{key}: {problem}{shown}. {fix}"))
        self.keys.append(key)


def key_path(path: str, child: str | int) -> str:
    if isinstance(child, int):
        return f"{path}[{child}]"
    return f"{path}.{child}" if not path.endswith(":") else f"{path}{child}"


def check_known(p: Problems, path: str, data: Mapping[str, Any], known: Mapping[str, Any]) -> None:
    for name in data:
        if name in known:
            continue
        guess = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.6)
        fix = f"Did you mean '{guess[0]}'?" if guess else f"Known keys here: {', '.join(known)}."
        p.add(key_path(path, name), HIDDEN, "is not a known setting (its value is not shown)", fix)


def value_or_default(data: Mapping, name: str, defaults: Mapping) -> Any:
    """The key's value; absent or null (JSON's "unset") gives the default."""
    value = data.get(name)
    return defaults[name] if value is None else value


def read_str(p: Problems, path: str, data: Mapping, name: str, defaults: Mapping,
              choices: tuple[str, ...] = ()) -> Any:
    value = value_or_default(data, name, defaults)
    if value is None:
        return None
    if not isinstance(value, str):
        p.add(key_path(path, name), value, "must be a string", f"Quote the value{choices_hint(choices)}.")
        return defaults[name]
    if choices and value not in choices:
        guess = difflib.get_close_matches(value, choices, n=1)
        hint = f" Did you mean '{guess[0]}'?" if guess else ""
        p.add(key_path(path, name), value, f"is not one of {', '.join(choices)}", f"Use one of them.{hint}")
        return defaults[name]
    return value


def read_matching(p: Problems, path: str, data: Mapping, name: str, defaults: Mapping, pattern: re.Pattern,
                   problem: str, fix: str) -> str | None:
    """An optional string that must match `pattern`; a mismatch is recorded and the value kept (for context)."""
    value = read_str(p, path, data, name, defaults)
    if value and not pattern.match(value):
        p.add(key_path(path, name), value, problem, fix)
    return value


def choices_hint(choices: tuple[str, ...]) -> str:
    return f" and use one of {', '.join(choices)}" if choices else ""


def read_bool(p: Problems, path: str, data: Mapping, name: str, defaults: Mapping) -> bool:
    value = value_or_default(data, name, defaults)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    p.add(key_path(path, name), value, "must be true or false", "Write true or false without quotes.")
    return defaults[name]


def read_int(p: Problems, path: str, data: Mapping, name: str, defaults: Mapping,
              low: int, high: int, unit: str) -> int | None:
    value = value_or_default(data, name, defaults)
    if value is None:
        return None
    number = value
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,12}", value.strip()):  # ASCII digits: not '²'
        number = int(value)
    if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
        p.add(key_path(path, name), value, f"must be a whole number of {unit} from {low} to {high}",
              f"Set a number of {unit} in that range.")
        return defaults[name]
    return number


def read_count(p: Problems, path: str, data: Mapping, name: str, defaults: Mapping,
                low: int, high: int, unit: str) -> int:
    """`read_int` of a key whose default is a number: never None."""
    value = read_int(p, path, data, name, defaults, low, high, unit)
    return int(defaults[name]) if value is None else value


def read_map(p: Problems, path: str, data: Mapping, name: str, defaults: Mapping) -> dict:
    value = value_or_default(data, name, defaults)
    if value is None:
        return {}
    if not isinstance(value, dict):
        p.add(key_path(path, name), value, "must be a map of keys to values", "Write it as `key: value` lines.")
        return {}
    return value


def read_list(p: Problems, path: str, data: Mapping, name: str, defaults: Mapping) -> list:
    value = value_or_default(data, name, defaults)
    if value is None:
        return []
    if not isinstance(value, list):
        p.add(key_path(path, name), value, "must be a list", "Write it as a YAML list (`- item` or `[a, b]`).")
        return []
    return value


def read_str_list(p: Problems, path: str, data: Mapping, name: str, defaults: Mapping) -> list[str]:
    items = read_list(p, path, data, name, defaults)
    good = []
    for index, item in enumerate(items):
        if isinstance(item, str) and item:
            good.append(item)
        else:
            p.add(key_path(key_path(path, name), index), item, "must be a non-empty string", "Quote the value.")
    return good


def read_objects(p: Problems, path: str, items: list, what: str,
                  read_one: Callable[[str, dict], Any]) -> list:
    parsed = []
    for index, item in enumerate(items):
        item_path = key_path(path, index)
        if not isinstance(item, dict):
            p.add(item_path, item, f"must be a {what} object", f"Write the {what} as `key: value` pairs.")
            continue
        result = read_one(item_path, item)
        if result is not None:
            parsed.append(result)
    return parsed
