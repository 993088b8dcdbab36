"""The settings schema: every key the gate reads, its default, its allowed values and patterns."""

from __future__ import annotations

import re
from typing import Any

NAMESPACE = "app-storage"

BACKENDS = ("aws", "minio")
ACCESS_LEVELS = ("public", "private")
ENCRYPTION_KINDS = ("aes256", "kms")
CORS_METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")
# Colder classes rank higher: a lifecycle may only move objects to a colder class (S3's waterfall).
STORAGE_CLASS_RANK = {
    "STANDARD_IA": 1,
    "INTELLIGENT_TIERING": 1,
    "ONEZONE_IA": 2,
    "GLACIER_IR": 3,
    "GLACIER": 4,
    "DEEP_ARCHIVE": 5,
}
INFREQUENT_ACCESS_CLASSES = ("STANDARD_IA", "ONEZONE_IA")
INFREQUENT_ACCESS_MIN_DAYS = 30
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4 presigned URLs live at most 7 days.

# Stack-level keys: name -> default. `bucketPrefix` defaults to `<project>-<stack>` (computed).
STACK_DEFAULTS: dict[str, Any] = {
    "backend": "aws",
    "encryption": "aes256",
    "kmsKeyArn": "",
    "versioning": True,
    "noncurrentVersionExpirationDays": 90,
    "abortIncompleteMultipartUploadDays": 7,
    "protectData": True,
    "forceDestroy": False,
    "bucketPrefix": "",  # empty: `<project>-<stack>`, derived in the gate
    "minioKmsKeyId": "",
    "replication": None,
    "cdn": None,
    "publicWithoutCdn": False,
    "tags": {},
    "apps": None,
}
REPLICATION_DEFAULTS: dict[str, Any] = {
    "region": None,
    "storageClass": "STANDARD_IA",
    "replicationTimeControl": False,
}
REPLICA_STORAGE_CLASSES = ("STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER",
                           "DEEP_ARCHIVE")
CDN_DEFAULTS: dict[str, Any] = {
    "enabled": False,
    "priceClass": "PriceClass_100",
    "domains": {},
    "certificateArn": None,
    "hostedZoneId": None,
    "logBucket": None,
    "webAclArn": None,
}
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
# CloudFront takes certificates and web ACLs only from us-east-1.
CLOUDFRONT_REGION = "us-east-1"
# The MinIO provider's own config (namespace `minio`), read for the endpoint apps connect to.
MINIO_PROVIDER_DEFAULTS: dict[str, Any] = {
    "minioServer": None,
    "minioSsl": False,
    "minioRegion": "us-east-1",
}
# Provider credentials come from the environment (MINIO_USER / MINIO_PASSWORD), never from the stack file.
MINIO_CREDENTIAL_KEYS = ("minioUser", "minioPassword", "minioAccessKey", "minioSecretKey", "minioSessionToken")
# Every setting of the pulumi-minio 0.17 provider (pulumi_minio.config) that is not a credential.
MINIO_PROVIDER_KEYS = (*MINIO_PROVIDER_DEFAULTS, "minioInsecure", "minioCacertFile", "minioCertFile", "minioKeyFile",
                       "minioApiVersion")
# The config namespaces this program or its providers read; a near miss of one is a typo that would be ignored.
KNOWN_NAMESPACES = ("app-storage", "aws", "minio", "pulumi")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "host.docker.internal")
APP_DEFAULTS: dict[str, Any] = {
    "dialect": "aws-sdk",
    "bucketName": None,
    "areas": None,
    "cors": [],
    "lifecycle": [],
}
# An app that declares no areas gets one private area spanning the whole bucket.
DEFAULT_AREAS = {"files": {"access": "private", "prefix": ""}}
AREA_DEFAULTS: dict[str, Any] = {
    "access": "private",
    "prefix": None,  # `<area>/`
    "cacheControl": None,
    "presignSeconds": 3600,
}
CORS_DEFAULTS: dict[str, Any] = {
    "origins": None,
    "methods": None,
    "headers": ["*"],
    "exposeHeaders": ["ETag"],
    "maxAgeSeconds": 3000,
    "allowAnyOrigin": False,
}
LIFECYCLE_DEFAULTS: dict[str, Any] = {
    "area": None,
    "prefix": None,
    "transitions": [],
    "expireDays": None,
}
TRANSITION_DEFAULTS: dict[str, Any] = {"days": None, "storageClass": None}

ORIGIN = re.compile(r"^https?://(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?$")
KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$")
ACM_CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[A-Za-z0-9-]+$")
WAF_WEB_ACL_ARN = re.compile(r"^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global/webacl/[A-Za-z0-9_-]+/[A-Za-z0-9-]+$")
HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
HOST_PORT = re.compile(r"^(?P<host>[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(:(?P<port>\d{1,5}))?$")
# A header value CloudFront can send: visible ASCII and inner spaces, at most 1,783 characters (CloudFront
# quotas, "maximum length of a custom header value").
HEADER_VALUE = re.compile(r"^[\x21-\x7e]([\x20-\x7e]{0,1781}[\x21-\x7e])?$")
