"""The app-storage component package: serves AppStorage to Pulumi programs in any language.

The Python language host runs `python <this directory> <engine address>`; the provider prints its port and serves
GetSchema (inferred from AppStorage's annotations) and Construct. It imports the library, never the command.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root, which holds `components`

from pulumi import InputPropertiesError  # noqa: E402
from pulumi.provider import main  # noqa: E402
from pulumi.provider.experimental.component import ComponentProvider  # noqa: E402
from pulumi.provider.provider import ConstructResult  # noqa: E402
from pulumi.provider.server import ComponentInitError  # noqa: E402

from components import PACKAGE_NAME, VERSION  # noqa: E402
from components.app_storage import AppStorage  # noqa: E402
from components.settings.component_inputs import unknown_input_paths  # noqa: E402

COMPONENTS = [AppStorage]


class AppStorageProvider(ComponentProvider):
    """The SDK's component provider, except that inputs the schema does not name are refused, and the settings
    gate's per-input errors reach the engine as such.

    The SDK drops inputs its schema does not name, and wraps whatever a component's constructor raises, so that the
    provider server no longer recognises an InputPropertiesError and reports an unexpected error with a traceback
    (pulumi 3.272, `provider/experimental/component.py` `map_input_properties` and `construct`,
    `provider/server.py` `Construct`)."""

    def construct(self, name, resource_type, inputs, options=None) -> ConstructResult:  # type: ignore[no-untyped-def]
        unknown = unknown_input_paths(inputs)
        if unknown:
            raise InputPropertiesError(f"app-storage: AppStorage {name!r} has inputs it does not know; nothing was "
                                       "declared", [{"property_path": path, "reason": "is not an input of AppStorage "
                                                     "(see the schema: `pulumi package get-schema`)"}
                                                    for path in unknown])
        try:
            return super().construct(name, resource_type, inputs, options)
        except ComponentInitError as error:
            if isinstance(error.inner, InputPropertiesError):
                raise error.inner from None
            raise


def serve(arguments: list[str]) -> None:
    main(AppStorageProvider(COMPONENTS, PACKAGE_NAME, None, VERSION), arguments)


if __name__ == "__main__":
    serve(sys.argv[1:])
