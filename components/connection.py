"""The neutral storage connection: everything an app's storage client needs, in no app's dialect.

Dialect mappings (`.env` variable names) are built from this one shape.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Optional

import pulumi


@dataclass(frozen=True)
class StorageConnection:
    region: str
    bucket: pulumi.Input[str]
    access_key_id: pulumi.Input[str]
    secret_access_key: pulumi.Input[str]
    """Always a Pulumi secret."""
    area_prefixes: dict[str, str]
    public_areas: tuple[str, ...]
    presign_seconds: dict[str, int]
    """Lifetime of presigned URLs for each private area."""
    endpoint: Optional[str] = None
    """URL with scheme; None on AWS, where SDKs find the regional endpoint themselves."""
    path_style: bool = False
    use_tls: bool = True
    public_base_url: pulumi.Input[Optional[str]] = None
    """`https://<cdn or custom domain>` serving the public areas; None until a CDN serves them."""

    def as_output(self) -> dict:
        """The connection as a stack output value (the secret stays a secret)."""
        # Not dataclasses.asdict: it deep-copies, and Outputs cannot be copied.
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {**values, "public_areas": list(self.public_areas)}
