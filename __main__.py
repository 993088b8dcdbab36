"""The app-storage program: one AppStorage per configured app, exported as that app's config."""

import pulumi

from components.app_storage import AppStorage
from components.naming import secret_output_name
from components.settings.gate import load_settings

settings = load_settings()
for warning in settings.warnings:
    pulumi.log.warn(warning)

for app in settings.apps:
    storage = AppStorage(app.name, app, settings)
    pulumi.export(app.name, storage.outputs())
    for key, value in storage.secret_outputs().items():
        pulumi.export(secret_output_name(app.name, key), value)
