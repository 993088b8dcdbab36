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

COMPONENTS = [AppStorage]


class AppStorageProvider(ComponentProvider):
    """The SDK's component provider, except that the settings gate's per-input errors reach the engine as such.

    The SDK wraps whatever a component's constructor raises, so the provider server no longer recognises an
    InputPropertiesError and reports an unexpected error with a traceback (pulumi 3.272,
    `provider/experimental/component.py` `construct`, `provider/server.py` `Construct`)."""

    def construct(self, name, resource_type, inputs, options=None) -> ConstructResult:  # type: ignore[no-untyped-def]
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
