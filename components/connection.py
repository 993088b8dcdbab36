"""The neutral storage connection: everything an app's storage client needs, in no app's dialect.

Dialect mappings (`.env` variable names) are built from this one shape.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import pulumi

from components.settings.types import StackSettings

SECRET_FIELDS = ("secret_access_key",)


@dataclass(frozen=True)
class StorageConnection:
    backend: str
    """`aws` or `minio`: which kind of server the app talks to."""
    region: str
    bucket: pulumi.Input[str]
    access_key_id: pulumi.Input[str | None]
    """None for a role identity: the SDK's default credential chain finds the role."""
    secret_access_key: pulumi.Input[str | None]
    """Always a Pulumi secret (None for a role)."""
    area_prefixes: dict[str, str]
    public_areas: tuple[str, ...]
    presign_seconds: dict[str, int]
    """Lifetime of presigned URLs for each private area."""
    endpoint: str | None = None
    """URL with scheme; None on AWS, where SDKs find the regional endpoint themselves."""
    path_style: bool = False
    use_tls: bool = True
    public_base_url: pulumi.Input[str | None] = None
    """Where public areas are read without signing: on MinIO `<endpoint>/<bucket>`; on AWS
    `https://<cdn or custom domain>`, None until a CDN serves them."""
    cdn_domain: pulumi.Input[str | None] = None
    """The host (no scheme) of the CDN that serves the public areas, when one does."""
    web_identity_role_arn: pulumi.Input[str | None] = None
    """A role assumed with an OIDC token (EKS IRSA, GitHub Actions): the AWS SDKs read it as AWS_ROLE_ARN, with
    the token file the platform names in AWS_WEB_IDENTITY_TOKEN_FILE."""

    def resolved(self) -> pulumi.Output[dict]:
        """The connection as one Output of plain values; only the fields that are Outputs are awaited."""
        values = self.as_output()
        pending = {key: value for key, value in values.items() if isinstance(value, pulumi.Output)}
        return pulumi.Output.all(**pending).apply(lambda resolved: {**values, **resolved})

    def as_output(self) -> dict:
        """The whole connection as one value, the secret key included (still a Pulumi secret)."""
        # Not dataclasses.asdict: it deep-copies, and Outputs cannot be copied.
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {**values, "public_areas": list(self.public_areas)}

    def without_secrets(self) -> dict:
        """The connection as a plain stack output: everything but the secret key, which is exported on its own
        (a value holding one secret is secret as a whole to a StackReference)."""
        return {key: value for key, value in self.as_output().items() if key not in SECRET_FIELDS}


def backend_endpoint(stack: StackSettings) -> dict:
    """How clients reach the stack's backend: nothing to add on AWS (SDKs know its endpoints); on MinIO
    the URL with scheme, path-style addressing (no per-bucket DNS), TLS as the server is set up."""
    if stack.minio is None:
        return {}
    return {"endpoint": stack.minio.url, "path_style": True, "use_tls": stack.minio.use_tls}
