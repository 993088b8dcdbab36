"""The settings gate: defaults, and one failing case per validation rule (each mutates one field)."""

from __future__ import annotations

import copy

import pytest

from components.settings.schema import STACK_DEFAULTS
from components.settings.types import SettingsError
from tests.helpers import settings_for

VALID = {
    "aws:region": "us-east-1",
    "app-storage:cdn": {"enabled": True},
    "app-storage:apps": {
        "shop": {
            "dialect": "django",
            "areas": {"media": {"access": "public"}, "private": {"access": "private"}},
            "cors": [{"origins": ["https://shop.example.com"], "methods": ["GET", "PUT"]}],
            "lifecycle": [
                {"area": "private", "transitions": [{"days": 30, "storageClass": "STANDARD_IA"},
                                                    {"days": 90, "storageClass": "GLACIER"}], "expireDays": 400},
            ],
        }
    },
}


def mutated(change) -> dict:
    values = copy.deepcopy(VALID)
    change(values)
    return values


def shop(values: dict) -> dict:
    return values["app-storage:apps"]["shop"]


def problems_of(values: dict) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        settings_for(values)
    return caught.value.problems


def only_problem(values: dict) -> str:
    problems = problems_of(values)
    assert len(problems) == 1, problems
    return problems[0]


# --- defaults ---------------------------------------------------------------------------------

def test_valid_config_parses_with_documented_defaults():
    settings = settings_for(VALID)
    assert settings.backend == "aws"
    assert settings.encryption == "aes256"
    assert settings.versioning is True
    assert settings.protect_data is True
    assert settings.force_destroy is False
    assert settings.noncurrent_version_expiration_days == STACK_DEFAULTS["noncurrentVersionExpirationDays"]
    assert settings.abort_incomplete_multipart_upload_days == 7
    app = settings.apps[0]
    assert app.bucket_name == "app-storage-test-shop"
    assert app.area_prefixes == {"media": "media/", "private": "private/"}
    assert [a.presign_seconds for a in app.areas] == [3600, 3600]
    assert app.cors[0].headers == ("*",) and app.cors[0].expose_headers == ("ETag",)
    assert app.cors[0].max_age_seconds == 3000


def test_app_without_areas_gets_one_private_area_over_the_whole_bucket():
    app = settings_for(mutated(lambda v: v["app-storage:apps"].update(chat={}))).apps[1]
    assert [(a.name, a.access, a.prefix) for a in app.areas] == [("files", "private", "")]
    assert app.dialect == "aws-sdk"


def test_config_text_from_the_cli_is_decoded():
    settings = settings_for(mutated(lambda v: v.update({"app-storage:versioning": "false",
                                                        "app-storage:noncurrentVersionExpirationDays": "30"})))
    assert settings.versioning is False
    assert settings.noncurrent_version_expiration_days == 30


def test_bucket_prefix_and_explicit_bucket_name():
    values = mutated(lambda v: v.update({"app-storage:bucketPrefix": "acme-prod"}))
    assert settings_for(values).apps[0].bucket_name == "acme-prod-shop"
    shop(values)["bucketName"] = "shop-assets.acme"
    assert settings_for(values).apps[0].bucket_name == "shop-assets.acme"


def test_settings_are_frozen():
    settings = settings_for(VALID)
    with pytest.raises(AttributeError):
        settings.backend = "minio"


# --- one failure per rule --------------------------------------------------------------------

def test_fails_unknown_backend():
    message = only_problem(mutated(lambda v: v.update({"app-storage:backend": "azure"})))
    assert message.startswith("app-storage:backend:") and "'azure'" in message and "aws, minio" in message


def test_fails_unknown_top_level_key_with_suggestion():
    message = only_problem(mutated(lambda v: v.update({"app-storage:encrytion": "kms"})))
    assert message.startswith("app-storage:encrytion:") and "Did you mean 'encryption'?" in message


def test_fails_unknown_nested_key_with_suggestion():
    message = only_problem(mutated(lambda v: shop(v)["areas"]["media"].update(acess="public")))
    assert message.startswith("app-storage:apps.shop.areas.media.acess:") and "Did you mean 'access'?" in message


def test_fails_app_name_not_dns_safe():
    message = only_problem(mutated(lambda v: v["app-storage:apps"].update({"My_App": {}})))
    assert message.startswith("app-storage:apps.My_App:") and "not a valid app name" in message


def test_fails_two_apps_with_one_bucket():
    def change(values):
        values["app-storage:apps"]["blog"] = {"bucketName": "app-storage-test-shop"}
    message = only_problem(mutated(change))
    assert message.startswith("app-storage:apps.blog.bucketName:") and "also the bucket of app 'shop'" in message


def test_fails_unknown_dialect():
    message = only_problem(mutated(lambda v: shop(v).update(dialect="rails")))
    assert message.startswith("app-storage:apps.shop.dialect:") and "django, s3, object-storage" in message


def test_fails_bad_area_name():
    message = only_problem(mutated(lambda v: shop(v)["areas"].update({"Media Files": {}})))
    assert message.startswith("app-storage:apps.shop.areas.Media Files:")


def test_fails_unknown_area_access():
    message = only_problem(mutated(lambda v: shop(v)["areas"]["media"].update(access="open")))
    assert message.startswith("app-storage:apps.shop.areas.media.access:") and "public, private" in message


def test_fails_overlapping_area_prefixes():
    message = only_problem(mutated(lambda v: shop(v)["areas"].update(thumbs={"prefix": "media/thumbs/"})))
    assert "app-storage:apps.shop.areas.thumbs.prefix" in message and "overlaps area 'media'" in message


def test_fails_area_prefixes_whose_verify_scratch_rules_share_an_id():
    """Each area's bucket lifecycle holds an `expire-verify-scratch-<prefix slug>` rule; S3's
    PutBucketLifecycleConfiguration refuses two rules with one ID ("InvalidArgument: Rule ID must be unique"), and
    MinIO's ILM likewise."""
    message = only_problem(mutated(lambda v: shop(v)["areas"].update(other={"prefix": "Media/"})))
    assert "app-storage:apps.shop.areas.other.prefix" in message and "expire-verify-scratch-media" in message


def test_fails_derived_bucket_name_too_long_names_the_app_and_the_fix():
    message = only_problem(mutated(lambda v: v.update({"app-storage:bucketPrefix": "a" * 60})))
    assert message.startswith("app-storage:apps.shop:")
    assert "app 'shop'" in message and "65 characters long" in message
    assert "app-storage:apps.shop.bucketName" in message and "Shorten app-storage:bucketPrefix" in message


def test_fails_explicit_bucket_name_with_double_dots_and_uppercase():
    message = only_problem(mutated(lambda v: shop(v).update(bucketName="Shop..Assets")))
    assert message.startswith("app-storage:apps.shop.bucketName:") and "'..'" in message and "uppercase" in message


def test_fails_ip_like_bucket_name():
    message = only_problem(mutated(lambda v: shop(v).update(bucketName="192.168.10.20")))
    assert "looks like an IP address" in message


def test_fails_transition_days_not_increasing():
    def change(values):
        shop(values)["lifecycle"][0]["transitions"][1]["days"] = 30
    message = only_problem(mutated(change))
    assert message.startswith("app-storage:apps.shop.lifecycle[0].transitions[1].days:")
    assert "previous transition's 30 days" in message


def test_fails_infrequent_access_before_30_days():
    def change(values):
        shop(values)["lifecycle"][0]["transitions"][0]["days"] = 10
    message = only_problem(mutated(change))
    assert message.startswith("app-storage:apps.shop.lifecycle[0].transitions[0].days:")
    assert "STANDARD_IA only after 30 days" in message


def test_fails_unknown_storage_class():
    def change(values):
        shop(values)["lifecycle"][0]["transitions"][1]["storageClass"] = "GLACIERS"
    message = only_problem(mutated(change))
    assert "transitions[1].storageClass" in message and "Did you mean 'GLACIER'" in message


def test_fails_transition_to_a_warmer_class():
    def change(values):
        shop(values)["lifecycle"][0]["transitions"] = [{"days": 30, "storageClass": "GLACIER"},
                                                       {"days": 90, "storageClass": "STANDARD_IA"}]
    message = only_problem(mutated(change))
    assert "transitions[1].storageClass" in message and "not colder than the previous class GLACIER" in message


def test_fails_expiry_before_last_transition():
    message = only_problem(mutated(lambda v: shop(v)["lifecycle"][0].update(expireDays=60)))
    assert message.startswith("app-storage:apps.shop.lifecycle[0].expireDays:") and "(day 90)" in message


def test_fails_lifecycle_prefix_outside_every_area():
    def change(values):
        shop(values)["lifecycle"].append({"prefix": "tmp/", "expireDays": 7})
    message = only_problem(mutated(change))
    assert message.startswith("app-storage:apps.shop.lifecycle[1].prefix:") and "inside no area" in message


def test_fails_lifecycle_area_that_does_not_exist():
    message = only_problem(mutated(lambda v: shop(v)["lifecycle"][0].update(area="archive")))
    assert message.startswith("app-storage:apps.shop.lifecycle[0].area:") and "media, private" in message


def test_fails_lifecycle_rule_without_a_target():
    def change(values):
        shop(values)["lifecycle"].append({"expireDays": 7})
    message = only_problem(mutated(change))
    assert message.startswith("app-storage:apps.shop.lifecycle[1]:") and "prefix" in message


def test_fails_cors_origin_not_a_url():
    def change(values):
        shop(values)["cors"][0]["origins"] = ["shop.example.com/app"]
    message = only_problem(mutated(change))
    assert message.startswith("app-storage:apps.shop.cors[0].origins[0]:") and "not an origin" in message


def test_fails_cors_unknown_method():
    def change(values):
        shop(values)["cors"][0]["methods"] = ["GET", "PATCH"]
    message = only_problem(mutated(change))
    assert message.startswith("app-storage:apps.shop.cors[0].methods[1]:") and "'PATCH'" in message


def test_fails_cors_any_origin_on_protected_data():
    def change(values):
        shop(values)["cors"][0]["origins"] = ["*"]
    message = only_problem(mutated(change))
    assert "cors[0].origins[0]" in message and "allowAnyOrigin: true" in message


def test_cors_any_origin_accepted_when_explicitly_allowed_or_data_unprotected():
    def allowed(values):
        shop(values)["cors"][0].update(origins=["*"], allowAnyOrigin=True)
    assert settings_for(mutated(allowed)).apps[0].cors[0].origins == ("*",)

    def unprotected(values):
        shop(values)["cors"][0]["origins"] = ["*"]
        values["app-storage:protectData"] = False
    assert settings_for(mutated(unprotected)).apps[0].cors[0].origins == ("*",)


def test_fails_unknown_encryption_kind():
    message = only_problem(mutated(lambda v: v.update({"app-storage:encryption": "sse-c"})))
    assert message.startswith("app-storage:encryption:") and "aes256, kms" in message


def test_fails_kms_key_arn_without_kms_encryption():
    arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    message = only_problem(mutated(lambda v: v.update({"app-storage:kmsKeyArn": arn})))
    assert message.startswith("app-storage:kmsKeyArn:") and "encryption is 'aes256'" in message


def test_fails_malformed_kms_key_arn():
    message = only_problem(mutated(lambda v: v.update({"app-storage:encryption": "kms",
                                                       "app-storage:kmsKeyArn": "alias/mine"})))
    assert message.startswith("app-storage:kmsKeyArn:") and "not a KMS key ARN" in message


def test_fails_force_destroy_on_protected_data():
    message = only_problem(mutated(lambda v: v.update({"app-storage:forceDestroy": True})))
    assert message.startswith("app-storage:forceDestroy:") and "protectData" in message


def test_fails_aws_backend_without_region():
    message = only_problem(mutated(lambda v: v.pop("aws:region")))
    assert message.startswith("aws:region:") and "pulumi config set aws:region" in message


def test_fails_no_apps():
    message = only_problem(mutated(lambda v: v.pop("app-storage:apps")))
    assert message.startswith("app-storage:apps:") and "at least one app" in message


def test_fails_wrong_types_name_the_expected_type():
    values = mutated(lambda v: v.update({"app-storage:versioning": "yes",
                                         "app-storage:noncurrentVersionExpirationDays": -1}))
    problems = problems_of(values)
    assert any(p.startswith("app-storage:versioning:") and "true or false" in p for p in problems)
    assert any(p.startswith("app-storage:noncurrentVersionExpirationDays:") and "whole number" in p
               for p in problems)


def test_fails_presign_seconds_beyond_seven_days():
    message = only_problem(mutated(lambda v: shop(v)["areas"]["private"].update(presignSeconds=700000)))
    assert message.startswith("app-storage:apps.shop.areas.private.presignSeconds:") and "604800" in message


def test_all_problems_are_reported_at_once():
    def many(values):
        values["app-storage:backend"] = "gcp"
        values["app-storage:encryption"] = "rsa"
        shop(values)["dialect"] = "rails"
        shop(values)["cors"][0]["methods"] = ["FETCH"]
    problems = problems_of(mutated(many))
    assert len(problems) == 4
    error = SettingsError(problems)
    assert "4 problems" in str(error) and "nothing was declared" in str(error)


# --- the minio backend ------------------------------------------------------------------------

MINIO = {"app-storage:backend": "minio", "minio:minioServer": "localhost:9000", "app-storage:protectData": False}


def on_minio(change=lambda values: None) -> dict:
    def both(values):
        values.update(MINIO)
        del values["app-storage:cdn"]
        change(values)
    return mutated(both)


def test_minio_settings_give_the_endpoint_and_name_each_skipped_feature():
    settings = settings_for(on_minio())
    assert settings.backend == "minio" and settings.region == "us-east-1"
    assert settings.minio.url == "http://localhost:9000" and settings.minio.kms_key_id is None
    warnings = "\n".join(settings.warnings)
    assert len(settings.warnings) == 4, settings.warnings
    for feature in ("CORS rules", "lifecycle tier transitions", "aborting incomplete multipart uploads",
                    "default encryption"):
        assert f"{feature} skipped on minio for app shop" in warnings


def test_minio_warns_only_about_what_the_stack_asks_for():
    def plain(values):
        del shop(values)["cors"]
        del shop(values)["lifecycle"]
        values["app-storage:minioKmsKeyId"] = "dev-key"
    settings = settings_for(on_minio(plain))
    assert settings.minio.kms_key_id == "dev-key"
    assert [w.split(" skipped")[0] for w in settings.warnings] == ["aborting incomplete multipart uploads"]


def test_aws_stacks_have_no_minio_endpoint_and_no_warnings():
    settings = settings_for(VALID)
    assert settings.minio is None and settings.warnings == ()


def test_minio_over_tls_on_another_host():
    settings = settings_for(on_minio(lambda v: v.update({"minio:minioServer": "minio.internal:9000",
                                                          "minio:minioSsl": "true"})))
    assert settings.minio.url == "https://minio.internal:9000"
    assert not any("unencrypted" in w for w in settings.warnings)


def test_minio_without_tls_on_another_host_is_warned():
    settings = settings_for(on_minio(lambda v: v.update({"minio:minioServer": "minio.internal:9000"})))
    assert any(w.startswith("minio:minioServer 'minio.internal:9000' is not this machine") for w in settings.warnings)


def test_fails_minio_without_a_server():
    message = only_problem(on_minio(lambda v: v.pop("minio:minioServer")))
    assert message.startswith("minio:minioServer: is required for the minio backend")
    assert "pulumi config set minio:minioServer localhost:9000" in message


def test_fails_minio_server_with_a_scheme():
    message = only_problem(on_minio(lambda v: v.update({"minio:minioServer": "http://localhost:9000"})))
    assert message.startswith("minio:minioServer: must be host:port") and "'http://localhost:9000'" in message


def test_fails_minio_credentials_in_the_stack_config_without_showing_them():
    message = only_problem(on_minio(lambda v: v.update({"minio:minioPassword": "hunter2-secret"})))
    assert message.startswith("minio:minioPassword: is a MinIO credential in the stack config")
    assert "MINIO_PASSWORD" in message and "hunter2-secret" not in message


def test_fails_kms_encryption_on_minio_without_a_minio_key():
    message = only_problem(on_minio(lambda v: v.update({"app-storage:encryption": "kms"})))
    assert message.startswith("app-storage:encryption: asks for KMS encryption")
    assert "app-storage:minioKmsKeyId" in message


def test_fails_aws_kms_key_on_minio():
    arn = "arn:aws:kms:us-east-1:123456789012:key/abcd-1234"
    problems = problems_of(on_minio(lambda v: v.update({"app-storage:encryption": "kms",
                                                         "app-storage:kmsKeyArn": arn})))
    assert any(p.startswith("app-storage:kmsKeyArn: is an AWS KMS key, which MinIO cannot use") for p in problems)


def test_fails_minio_key_on_aws():
    message = only_problem(mutated(lambda v: v.update({"app-storage:minioKmsKeyId": "dev-key"})))
    assert message.startswith("app-storage:minioKmsKeyId: applies only to the minio backend")


def test_fails_replication_asked_on_minio():
    message = only_problem(on_minio(lambda v: v.update({"app-storage:replication": {"region": "us-west-2"}})))
    assert message.startswith("app-storage:replication: asks the minio backend for cross-region replication")
    assert "Remove app-storage:replication" in message


def test_fails_cdn_asked_on_minio_but_a_disabled_cdn_is_fine():
    message = only_problem(on_minio(lambda v: v.update({"app-storage:cdn": {"enabled": True}})))
    assert message.startswith("app-storage:cdn: asks the minio backend for the CloudFront CDN")
    assert settings_for(on_minio(lambda v: v.update({"app-storage:cdn": {"enabled": False}}))).backend == "minio"


def test_fails_public_area_over_the_whole_bucket():
    message = only_problem(mutated(lambda v: shop(v).update(areas={"media": {"access": "public", "prefix": ""}},
                                                            lifecycle=[])))
    assert message.startswith("app-storage:apps.shop.areas.media.prefix: makes a public area of the whole bucket")


def test_fails_area_prefix_without_trailing_slash():
    message = only_problem(mutated(lambda v: shop(v)["areas"]["media"].update(prefix="media")))
    assert message.startswith("app-storage:apps.shop.areas.media.prefix:") and "end with '/'" in message


def test_fails_lifecycle_rule_with_both_area_and_prefix():
    message = only_problem(mutated(lambda v: shop(v)["lifecycle"][0].update(prefix="private/old/")))
    assert message.startswith("app-storage:apps.shop.lifecycle[0]:") and "both an area and a prefix" in message


def test_fails_reserved_tag_key():
    message = only_problem(mutated(lambda v: v.update({"app-storage:tags": {"aws:owner": "me"}})))
    assert message.startswith("app-storage:tags.aws:owner:") and "not a valid AWS tag" in message


# --- replication and CDN (aws) ----------------------------------------------------------------

def test_replication_and_cdn_settings_with_their_defaults():
    settings = settings_for(mutated(lambda v: v.update({"app-storage:replication": {"region": "us-west-2"}})))
    assert settings.replication.region == "us-west-2"
    assert settings.replication.storage_class == "STANDARD_IA"
    assert settings.replication.replication_time_control is False
    assert settings.cdn.price_class == "PriceClass_100" and settings.cdn.domains == {}


def test_fails_replica_region_equal_to_the_source_region():
    message = only_problem(mutated(lambda v: v.update({"app-storage:replication": {"region": "us-east-1"}})))
    assert message.startswith("app-storage:replication.region: is the source region")


def test_fails_replication_without_a_region():
    message = only_problem(mutated(lambda v: v.update({"app-storage:replication": {"storageClass": "GLACIER"}})))
    assert message.startswith("app-storage:replication.region: is required")


def test_fails_replication_without_versioning():
    message = only_problem(mutated(lambda v: v.update({"app-storage:replication": {"region": "us-west-2"},
                                                       "app-storage:versioning": False})))
    assert message.startswith("app-storage:versioning: is off, but replication needs versioning")


def test_fails_a_managed_waf_beside_a_given_web_acl():
    web_acl = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/abcd-1234"
    message = only_problem(mutated(lambda v: v.update({"app-storage:cdn": {
        "enabled": True, "waf": "managed", "webAclArn": web_acl}})))
    assert message.startswith("app-storage:cdn.waf: declares a web ACL, and app-storage:cdn.webAclArn names one")
    assert "Keep one" in message


def test_fails_an_unknown_waf_kind():
    message = only_problem(mutated(lambda v: v.update({"app-storage:cdn": {"enabled": True, "waf": "on"}})))
    assert message.startswith("app-storage:cdn.waf") and "managed" in message


def test_cdn_defaults_to_hsts_preload_and_no_waf():
    cdn = settings_for(VALID).cdn
    assert cdn is not None and cdn.hsts_preload is True and cdn.waf is None


def test_alerts_default_off_and_an_app_overrides_the_stacks_thresholds():
    assert settings_for(VALID).apps[0].alerts.storage_bytes is None
    settings = settings_for(mutated(lambda v: (
        v.update({"app-storage:alerts": {"emails": ["ops@example.com"], "storageBytes": 50e9, "requestsPer5Min": 1000,
                                         "monthlyBudgetUsd": 50}}),
        shop(v).update({"alerts": {"storageBytes": "2000"}}))))
    [app] = settings.apps
    assert (app.alerts.storage_bytes, app.alerts.requests_per_5min, app.alerts.emails) == (
        2000, 1000, ("ops@example.com",))
    assert settings.alerts.storage_bytes == 50_000_000_000 and settings.alerts.monthly_budget_usd == 50


def test_fails_a_threshold_that_is_not_a_whole_number():
    message = only_problem(mutated(lambda v: v.update({"app-storage:alerts": {"storageBytes": 1.5}})))
    assert message.startswith("app-storage:alerts.storageBytes: must be a whole number of bytes") and "50e9" in message


def test_fails_an_email_that_is_not_an_address():
    message = only_problem(mutated(lambda v: v.update({"app-storage:alerts": {"emails": ["ops"]}})))
    assert message.startswith("app-storage:alerts.emails[0]") or message.startswith("app-storage:alerts.emails.0")
    assert "is not an email address" in message


def test_fails_an_email_listed_twice():
    """One subscription per address: its child name is derived from the address without regard to case."""
    message = only_problem(mutated(lambda v: v.update({"app-storage:alerts": {
        "emails": ["ops@example.com", "Ops@Example.com"]}})))
    assert "repeats an address listed before it" in message and "Ops@Example.com" in message


def test_fails_emails_set_per_app():
    message = only_problem(mutated(lambda v: shop(v).update({"alerts": {"emails": ["ops@example.com"]}})))
    assert "app-storage:apps.shop.alerts" in message and "emails" in message


def test_fails_public_areas_on_aws_without_a_cdn():
    message = only_problem(mutated(lambda v: v.pop("app-storage:cdn")))
    assert message.startswith("app-storage:apps.shop: has public areas, but no CDN serves them")
    assert "app-storage:cdn: {enabled: true}" in message and "publicWithoutCdn" in message


def test_public_without_cdn_is_an_explicit_opt_in_that_is_reported():
    def opt_in(values):
        values.pop("app-storage:cdn")
        values["app-storage:publicWithoutCdn"] = True
    settings = settings_for(mutated(opt_in))
    assert settings.public_without_cdn is True and settings.cdn is None
    assert any(w.startswith("app-storage:publicWithoutCdn: anyone can read the public areas of apps shop")
               for w in settings.warnings)


def test_fails_public_without_cdn_while_the_cdn_serves():
    message = only_problem(mutated(lambda v: v.update({"app-storage:publicWithoutCdn": True})))
    assert message.startswith("app-storage:publicWithoutCdn: opens the buckets to the public")


def test_fails_custom_domain_without_a_certificate_or_zone():
    message = only_problem(mutated(lambda v: v.update({"app-storage:cdn": {
        "enabled": True, "domains": {"shop": "media.shop.example.com"}}})))
    assert message.startswith("app-storage:cdn.domains: need a certificate")


def test_fails_certificate_outside_us_east_1():
    message = only_problem(mutated(lambda v: v.update({"app-storage:cdn": {
        "enabled": True, "domains": {"shop": "media.shop.example.com"},
        "certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abcd"}})))
    assert message.startswith("app-storage:cdn.certificateArn: is not an ACM certificate ARN in us-east-1")


def test_fails_domain_for_an_app_without_public_areas_and_unknown_price_class():
    problems = problems_of(mutated(lambda v: v.update({"app-storage:cdn": {
        "enabled": True, "priceClass": "PriceClass_50", "hostedZoneId": "Z0123456789ABC",
        "domains": {"nobody": "x.example.com"}}})))
    assert any(p.startswith("app-storage:cdn.domains.nobody: names an app without public areas") for p in problems)
    assert any(p.startswith("app-storage:cdn.priceClass: is not one of PriceClass_100") for p in problems)


def test_fails_a_switched_off_cdn_with_an_unknown_price_class_on_either_backend():
    """A disabled block is read in full: its typo fails now, not on the day it is switched on."""
    bogus = {"enabled": False, "priceClass": "bogus"}
    def no_cdn_needed(values):
        values["app-storage:cdn"] = bogus
        values["app-storage:publicWithoutCdn"] = True
    assert only_problem(mutated(no_cdn_needed)).startswith("app-storage:cdn.priceClass: is not one of")
    message = only_problem(on_minio(lambda v: v.update({"app-storage:cdn": bogus})))
    assert message.startswith("app-storage:cdn.priceClass: is not one of")


def test_public_without_cdn_on_minio_is_reported_not_dropped():
    settings = settings_for(on_minio(lambda v: v.update({"app-storage:publicWithoutCdn": True})))
    assert any(w.startswith("app-storage:publicWithoutCdn has no effect on minio") for w in settings.warnings)


def test_cache_control_that_nothing_applies_is_reported_with_the_apps_own_fix():
    def cache_without_cdn(values):
        values.pop("app-storage:cdn")
        values["app-storage:publicWithoutCdn"] = True
        shop(values)["areas"]["media"]["cacheControl"] = "max-age=60"
    [warning] = [w for w in settings_for(mutated(cache_without_cdn)).warnings if w.startswith("cacheControl")]
    assert "areas shop.media" in warning and "Cache-Control on each object" in warning
    with_cdn = mutated(lambda v: shop(v)["areas"]["media"].update(cacheControl="max-age=60"))
    assert not any(w.startswith("cacheControl") for w in settings_for(with_cdn).warnings)


@pytest.mark.parametrize("value", ["max-age=60\nX-Evil: 1", " max-age=60", "max-âge=60", "x" * 1784])
def test_fails_cache_control_that_is_no_header_value(value):
    """CloudFront quotas: a custom header value is visible ASCII, at most 1,783 characters."""
    message = only_problem(mutated(lambda v: shop(v)["areas"]["media"].update(cacheControl=value)))
    assert message.startswith("app-storage:apps.shop.areas.media.cacheControl: is not an HTTP header value")


# --- hostile input: types before meaning, the whole name space, secrets never echoed ---------------------

def test_null_means_unset_and_takes_the_default():
    def nulls(values):
        shop(values).update(dialect=None, cors=None)
        shop(values)["areas"]["private"]["presignSeconds"] = None
    app = settings_for(mutated(nulls)).apps[0]
    assert app.dialect == "aws-sdk" and app.cors == ()
    assert {a.name: a.presign_seconds for a in app.areas}["private"] == 3600


@pytest.mark.parametrize("transition, expected", [
    ({"days": None, "storageClass": "GLACIER"}, "needs both days and storageClass"),
    ({"days": 400, "storageClass": None}, "needs both days and storageClass"),
    ({"days": "²", "storageClass": "GLACIER"}, "must be a whole number of days"),
    ({"days": "9" * 5000, "storageClass": "GLACIER"}, "must be a whole number of days"),
    ({"days": True, "storageClass": "GLACIER"}, "must be a whole number of days"),
])
def test_fails_transition_values_of_the_wrong_type_without_a_traceback(transition, expected):
    def second_transition(values):
        shop(values)["lifecycle"][0]["transitions"][1] = transition
        shop(values)["lifecycle"][0].pop("expireDays")
    message = only_problem(mutated(second_transition))
    assert message.startswith("app-storage:apps.shop.lifecycle[0].transitions[1]") and expected in message
    assert len(message) < 400


def test_fails_a_lifecycle_rule_with_no_action():
    message = only_problem(mutated(lambda v: shop(v).update(lifecycle=[{"area": "private", "transitions": []}])))
    assert message.startswith("app-storage:apps.shop.lifecycle[0]: neither transitions nor expires anything")


def test_fails_an_apps_replica_named_like_another_apps_bucket():
    def collide(values):
        values["app-storage:replication"] = {"region": "us-west-2"}
        values["app-storage:apps"]["x"] = {"bucketName": "shared-x"}
        values["app-storage:apps"]["y"] = {"bucketName": "shared-x-replica"}
    message = only_problem(mutated(collide))
    assert message.startswith("app-storage:apps.y.bucketName: gives the S3 bucket name 'shared-x-replica', which "
                              "app 'x' declares too")
    without_replication = mutated(lambda v: v["app-storage:apps"].update(x={"bucketName": "shared-x"},
                                                                          y={"bucketName": "shared-x-replica"}))
    assert settings_for(without_replication).apps  # no replica, no clash


@pytest.mark.parametrize("tags, expected", [
    ({"": "x"}, "a tag key has 1 to 128 characters"),
    ({"team<1>": "x"}, "tags hold only letters, digits, spaces"),
    ({"team": "a\u0000b"}, "tags hold only letters"),
    ({"AWS:owner": "me"}, "reserved for AWS"),
])
def test_fails_tags_aws_refuses(tags, expected):
    """AWS Tagging Best Practices: keys 1-128, values 0-256 characters of letters, digits, spaces and
    _ . : / = + - @; the aws: prefix is reserved."""
    message = only_problem(mutated(lambda v: v.update({"app-storage:tags": tags})))
    assert "is not a valid AWS tag" in message and expected in message


def test_unicode_tags_aws_allows_pass():
    settings = settings_for(mutated(lambda v: v.update({"app-storage:tags": {"équipe": "données / stockage"}})))
    assert settings.tags == {"équipe": "données / stockage"}


@pytest.mark.parametrize("key", ["minio:minioPassword", "minio:minioPasword", "minio:minioSecretKy"])
def test_fails_minio_credentials_and_their_misspellings_on_any_backend_without_echoing_them(key):
    for values in (mutated(lambda v: v.update({key: "hunter2-secret"})),
                   on_minio(lambda v: v.update({key: "hunter2-secret"}))):
        problems = problems_of(values)
        [message] = [m for m in problems if m.startswith(f"{key}:")]
        assert "MinIO credential" in message and "hunter2" not in " ".join(problems)


def test_fails_an_unknown_minio_setting_with_a_suggestion():
    message = only_problem(on_minio(lambda v: v.update({"minio:minioSsll": "true"})))
    assert message.startswith("minio:minioSsll: is not a setting of the MinIO provider")
    assert "Did you mean 'minio:minioSsl'?" in message


def test_fails_a_near_miss_of_our_namespace_without_echoing_the_value():
    message = only_problem(mutated(lambda v: v.update({"app-storge:protectData": "false"})))
    assert message.startswith("app-storge:protectData: is in the namespace 'app-storge'")
    assert "Did you mean 'app-storage:protectData'?" in message and "false" not in message


def test_an_unrelated_namespace_is_left_to_its_own_program():
    assert settings_for(mutated(lambda v: v.update({"datadog:apiKey": "x"}))).apps


def test_fails_an_unknown_key_without_echoing_its_value():
    message = only_problem(mutated(lambda v: v.update({"app-storage:minioPassword": "hunter2"})))
    assert message.startswith("app-storage:minioPassword: is not a known setting") and "hunter2" not in message


def test_a_key_with_a_newline_or_an_escape_sequence_stays_on_one_line():
    def forged(values):
        values["app-storage:apps"]["x\n  - app-storage:fake: forged problem"] = {}
        values["app-storage:apps"]["\x1b[31mred"] = {}
    with pytest.raises(SettingsError) as caught:
        settings_for(mutated(forged))
    text = str(caught.value)
    assert "has 2 problems" in text and len(text.splitlines()) == 3
    assert "\x1b" not in text and "\\x1b" in text and "\\n" in text


def test_fails_a_number_too_large_to_read_in_structured_config():
    """The CLI hands structured config over as JSON text; a 5000-digit number in it is one clear problem."""
    from components.settings.gate import parse_settings
    from tests.helpers import as_config
    config = as_config(mutated(lambda v: shop(v)["lifecycle"][0].update(expireDays="HUGE")))
    config["app-storage:apps"] = config["app-storage:apps"].replace('"HUGE"', "1" + "0" * 5000)
    with pytest.raises(SettingsError) as caught:
        parse_settings(config, "app-storage", "test")
    [message] = caught.value.problems
    assert message.startswith("app-storage:apps: is not readable structured config") and len(message) < 400


STACK_FILE = "config:\n  aws:region: us-east-1\n  app-storage:encryption: kms\n  app-storage:cdn: {enabled: true}\n"
TOO_LONG = "9" * 5000


@pytest.mark.parametrize("line, key, fix", [
    pytest.param(f"app-storage:noncurrentVersionExpirationDays: {TOO_LONG}",
                 "app-storage:noncurrentVersionExpirationDays", "Set a number of days in that range.", id="top-level"),
    pytest.param(f"app-storage:noncurrentVersionExpirationDays: -{TOO_LONG}",
                 "app-storage:noncurrentVersionExpirationDays", "Set a number of days in that range.", id="negative"),
    pytest.param(f"app-storage:identity: {{rotation: {{generation: {TOO_LONG}}}}}",
                 "app-storage:identity.rotation.generation", "Set a number of generations in that range.", id="nested"),
    pytest.param(f"app-storage:tags: {{team: {TOO_LONG}}}", "app-storage:tags.team",
                 "a tag value has at most 256 characters", id="tag-value"),
])
def test_fails_a_number_too_long_to_read_in_a_stack_file_naming_its_key(tmp_path, capsys, line, key, fix):
    """Python will not read an integer of more than 4300 digits (ValueError "Exceeds the limit (4300 digits) for
    integer string conversion", with advice about sys.set_int_max_str_digits; Python docs, "Integer string conversion
    length limitation"). The Pulumi CLI's YAML reader, yaml.v3, keeps a number beyond a float's range as text
    (resolve.go), and so does `make plan`: the gate then names the key, the number's size and what to write."""
    from cli import main as cli

    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(f"{STACK_FILE}  {line}\n")
    code = cli.main(["plan", "--stack", "dev", "--stack-file", str(stack_file)])
    err = capsys.readouterr().err
    assert code == 2, err
    [problem] = [text for text in err.splitlines() if text.startswith("  - ")]
    assert problem.startswith(f"  - {key}: ") and "(got a number of 5,000 digits)" in problem and fix in problem, err
    assert "set_int_max_str_digits" not in err and "4300" not in err and "Traceback" not in err


def test_a_number_beyond_a_floats_range_reads_as_text_as_the_pulumi_cli_reads_it(tmp_path):
    """yaml.v3 (resolve.go) tries int64, uint64, then float64, and keeps the text when strconv.ParseFloat overflows:
    1e308 is still a number, a 310-digit one is text. Smaller numbers read as before."""
    from cli.stack_file import read_yaml_map

    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(f"config:\n  a: 1{'0' * 308}\n  b: 1{'0' * 309}\n  c: -{'9' * 400}\n  d: 42\n  e: '{TOO_LONG}'\n")
    config = read_yaml_map(path)[0]["config"]
    assert config["a"] == 10 ** 308 and config["d"] == 42
    assert (config["b"], config["c"], config["e"]) == ("1" + "0" * 309, "-" + "9" * 400, TOO_LONG)
