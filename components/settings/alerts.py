"""The rules of alerts: the stack's defaults (who is told, the monthly budget, thresholds) and each app's own."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from components.settings.readers import Problems, check_known, key_path, read_str_list
from components.settings.schema import ALERT_DEFAULTS, APP_ALERT_DEFAULTS
from components.settings.types import AlertSettings

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LIMITS = {"storageBytes": (1, 10**18, "bytes"), "requestsPer5Min": (1, 10**12, "requests"),
          "monthlyBudgetUsd": (1, 10**9, "US dollars"), "appMonthlyBudgetUsd": (1, 10**9, "US dollars")}
"""Each threshold's range and unit (S3 sets no bound on a bucket's size; these only keep a number a number)."""
NO_ALERTS = AlertSettings()


def _quantity(p: Problems, path: str, data: dict, name: str) -> int | None:
    """A whole number, written as one (`50000000000`), in exponent form (`50e9`, which YAML reads as a float) or
    as text of digits."""
    value = data.get(name)
    if value is None:
        return None
    low, high, unit = LIMITS[name]
    number: Any = value
    if isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"[0-9]{1,19}", value.strip()):
        number = int(value)
    if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
        p.add(key_path(path, name), value, f"must be a whole number of {unit} from {low} to {high:.0e}",
              f"Write e.g. `{name}: 50e9`." if name == "storageBytes" else f"Set a number of {unit} in that range.")
        return None
    return number


def _app_default(stack: AlertSettings) -> AlertSettings:
    """What an app gets unless it says otherwise: the stack's emails and thresholds, and as its own budget the
    stack's `appMonthlyBudgetUsd` (never the whole stack's budget)."""
    return replace(stack, monthly_budget_usd=stack.app_monthly_budget_usd, app_monthly_budget_usd=None)


def read_alerts(p: Problems, path: str, data: Any, stack_wide: bool,
                default: AlertSettings = NO_ALERTS) -> AlertSettings:
    """An `alerts` map: the stack's (`stack_wide`: emails and the budget too) or an app's, over `default`."""
    if data is None:
        return default if stack_wide else _app_default(default)
    if not isinstance(data, dict):
        p.add(path, data, "must be an alerts object", "Write e.g. `{storageBytes: 50e9, requestsPer5Min: 100000}`.")
        return default if stack_wide else _app_default(default)
    check_known(p, path, data, ALERT_DEFAULTS if stack_wide else APP_ALERT_DEFAULTS)
    emails = tuple(read_str_list(p, path, data, "emails", ALERT_DEFAULTS)) if stack_wide else default.emails
    for index, email in enumerate(emails):
        if not EMAIL.match(email):
            p.add(key_path(key_path(path, "emails"), index), email, "is not an email address",
                  "Write e.g. ops@example.com: each address is asked to confirm its subscription.")
        elif email.strip().lower() in {e.strip().lower() for e in emails[:index]}:
            p.add(key_path(key_path(path, "emails"), index), email, "repeats an address listed before it",
                  "List each address once (addresses are compared without regard to case).")
    budget = _quantity(p, path, data, "monthlyBudgetUsd")
    app_budget = _quantity(p, path, data, "appMonthlyBudgetUsd") if stack_wide else None
    storage = _quantity(p, path, data, "storageBytes")
    requests = _quantity(p, path, data, "requestsPer5Min")
    return AlertSettings(
        emails=emails,
        # An app's budget is its own (a budget on its cost allocation tag): the stack's budget is the whole stack's.
        monthly_budget_usd=budget if "monthlyBudgetUsd" in data else (
            default.monthly_budget_usd if stack_wide else _app_default(default).monthly_budget_usd),
        app_monthly_budget_usd=app_budget,
        storage_bytes=storage if "storageBytes" in data else default.storage_bytes,
        requests_per_5min=requests if "requestsPer5Min" in data else default.requests_per_5min,
    )
