"""The app-storage library: settings gate, names, documents and components."""

PACKAGE_NAME = "app-storage"
"""The component package's name: its type tokens' first part (`app-storage:index:AppStorage`)."""
VERSION = "0.1.0"
"""The component package's version, as `pulumi package add` records it."""
