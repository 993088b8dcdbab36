"""Messages that stay one line: whatever a user typed into a key or value, a message never breaks."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """`text` with every line break and control character escaped (`\\n`, `\\x1b`, `\\u2028`), so that a key
    holding a newline cannot print a second, forged problem line and no escape sequence reaches a terminal."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode(), text)
