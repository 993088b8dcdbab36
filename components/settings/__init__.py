"""The settings gate, split by concern. Import from the module that holds the name:

- `gate`: `parse_settings` and `load_settings`, the entry; stack-level rules.
- `schema`: every key with its default, allowed values and patterns (defaults owned by the components' Args).
- `types`: the frozen, typed result (`StackSettings`, `AppSettings`, ...) and `SettingsError`.
- `readers`: the generic readers that record one-line problems and go on.
- `apps`: the rules of an app (areas, CORS, lifecycle), tags, and the shared name space.
- `backends`: what each backend needs, can and cannot declare.

This file imports nothing, so that the components' modules can import `types` without a cycle.
"""
