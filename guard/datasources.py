"""What each data source type reads, in one table: pure, identity or world.

- **pure**: a function of the code and of files in the repository. A value it feeds changes only
  when the code does, so the cause engine follows its arguments instead of stopping at it.
- **identity**: who and where the plan runs (account, region, partition, client). A change there
  means the plan runs with other credentials or in another region than the last apply: the
  wrong-account / wrong-region story.
- **world**: everything else reads something outside the code at every plan (an image list,
  a parameter, another stack's state, a program's output): a value it feeds can change with no
  code change. Unknown types are world: nothing is assumed pure without a reason.
"""

from __future__ import annotations

from enum import Enum


class DataClass(str, Enum):
    pure = "pure"
    identity = "identity"
    world = "world"


# type -> (class, why). Only pure and identity types need an entry; the rest are world.
DATA_CLASSES: dict[str, tuple[DataClass, str]] = {
    "aws_iam_policy_document": (DataClass.pure, "renders a policy JSON from its arguments"),
    "template_file": (DataClass.pure, "renders a template from its arguments (the file is in the repository)"),
    "template_cloudinit_config": (DataClass.pure, "renders cloud-init from its parts"),
    "cloudinit_config": (DataClass.pure, "renders cloud-init from its parts"),
    "archive_file": (DataClass.pure, "zips files of the repository"),
    "local_file": (DataClass.pure, "reads a file of the repository"),
    "local_sensitive_file": (DataClass.pure, "reads a file of the repository"),
    "null_data_source": (DataClass.pure, "returns its inputs"),
    "google_iam_policy": (DataClass.pure, "renders a policy from its arguments"),
    "azurerm_policy_definition": (DataClass.world, "reads a policy definition from Azure"),
    "aws_caller_identity": (DataClass.identity, "the account and principal of the credentials"),
    "aws_region": (DataClass.identity, "the region the provider works in"),
    "aws_partition": (DataClass.identity, "the partition of the provider's region"),
    "aws_default_tags": (DataClass.identity, "the provider's default tags"),
    "azurerm_client_config": (DataClass.identity, "the tenant, subscription and principal of the credentials"),
    "azurerm_subscription": (DataClass.identity, "the subscription the provider works in"),
    "google_client_config": (DataClass.identity, "the project, region and token of the credentials"),
    "google_client_openid_userinfo": (DataClass.identity, "the identity of the credentials"),
    "google_project": (DataClass.identity, "the project the provider works in"),
}

# World types worth a reason of their own in `replace-guard rules`.
WORLD_NOTES: dict[str, str] = {
    "terraform_remote_state": "reads another stack's state: its outputs change when that stack is applied",
    "tfe_outputs": "reads another HCP Terraform workspace's outputs",
    "external": "runs a program at every plan and takes its output",
    "http": "fetches a URL at every plan",
}


def data_class(dtype: str) -> DataClass:
    """pure, identity or world (the default)."""
    found = DATA_CLASSES.get(dtype)
    if found is not None:
        return found[0]
    if dtype.startswith("dns_"):
        return DataClass.world
    return DataClass.world


def data_class_reason(dtype: str) -> str:
    found = DATA_CLASSES.get(dtype)
    if found is not None:
        return found[1]
    return WORLD_NOTES.get(dtype, "reads something outside the code at every plan")


# Data source attributes known to hold no secret, by type. Every other value a data source
# returns stays unprinted: aws_ssm_parameter's `value` is marked sensitive, but its
# `insecure_value` holds the same text unmarked, and other types have no marks at all.
# terraform_remote_state `outputs` are shown unless the plan marks them sensitive (the other
# stack's sensitive outputs are marked).
SAFE_DATA_ATTRS: dict[str, frozenset[str]] = {
    t: frozenset(a.split()) for t, a in {
        "aws_ami": "id image_id name creation_date owner_id description architecture arn",
        "aws_ami_ids": "ids",
        "aws_availability_zones": "names zone_ids group_names",
        "aws_availability_zone": "name zone_id region group_name",
        "aws_region": "name id region endpoint description",
        "aws_regions": "names",
        "aws_caller_identity": "account_id arn",
        "aws_partition": "partition dns_suffix",
        "aws_ssm_parameter": "name arn type version data_type",
        "aws_vpc": "id arn cidr_block",
        "aws_vpcs": "ids",
        "aws_subnet": "id arn availability_zone availability_zone_id cidr_block vpc_id",
        "aws_subnets": "ids",
        "aws_subnet_ids": "ids",
        "aws_security_group": "id arn name vpc_id",
        "aws_security_groups": "ids",
        "aws_key_pair": "key_name key_pair_id arn",
        "aws_kms_key": "id arn key_id",
        "aws_kms_alias": "id arn target_key_id target_key_arn",
        "aws_launch_template": "id arn name latest_version default_version image_id",
        "aws_ebs_snapshot": "id snapshot_id arn",
        "aws_ebs_snapshot_ids": "ids",
        "aws_ec2_instance_type": "instance_type",
        "aws_ec2_instance_type_offering": "instance_type",
        "aws_ecr_image": "id image_digest image_tags image_pushed_at image_uri repository_name",
        "aws_ecr_repository": "arn name repository_url registry_id",
        "aws_route53_zone": "zone_id name arn",
        "aws_iam_role": "arn name id",
        "aws_eks_cluster": "name arn version",
        "aws_db_snapshot": "id db_snapshot_identifier db_snapshot_arn",
        "aws_s3_bucket": "id arn bucket region",
        "aws_lambda_function": "arn function_name version qualified_arn",
        "google_compute_image": "name self_link family",
        "google_compute_zones": "names",
        "azurerm_resource_group": "name location id",
        "terraform_remote_state": "outputs",
    }.items()
}

# Types whose values a plan may show when it does not mark them: their whole result is metadata.
ALL_ATTRS_SAFE: frozenset[str] = frozenset({"terraform_remote_state"})


def data_attr_is_safe(dtype: str, attr: str | None) -> bool:
    """True when `data.<dtype>.*.<attr>` is known to hold no secret (unless the plan marks it)."""
    return attr is not None and attr in SAFE_DATA_ATTRS.get(dtype, frozenset())


# What usually changed, per data source type, in words.
WHAT_CHANGED: dict[str, str] = {
    "aws_ssm_parameter": "a new value was written to the parameter (every plan reads its latest version)",
    "aws_availability_zones": "the zones the account can use, or their order, changed, so the same index now "
                              "names another zone",
    "aws_availability_zone": "the zone lookup now returns another zone",
    "aws_ami_ids": "a new image matching the filters was published; `ids` is sorted newest first, so the same "
                   "index now names another image",
    "aws_ami": "the image lookup now finds another image",
    "aws_ebs_snapshot": "a newer snapshot matching the filters was taken, and `most_recent` picks it",
    "aws_db_snapshot": "a newer snapshot matching the lookup was taken",
    "aws_ecr_image": "another image was pushed to the repository",
    "aws_subnet": "the lookup now matches another subnet",
    "aws_subnets": "the lookup now matches other subnets (or lists them in another order)",
    "aws_vpc": "the lookup now matches another VPC",
    "aws_security_group": "the lookup now matches another security group",
    "aws_region": "the provider now works in another region",
    "aws_caller_identity": "the credentials now belong to another account",
    "aws_kms_key": "the key lookup now returns another key",
    "aws_launch_template": "the launch template has a new version",
    "terraform_remote_state": "the other stack was applied and its output changed",
    "tfe_outputs": "the other workspace was applied and its output changed",
    "external": "the program printed something else this time",
    "http": "the URL returned something else this time",
}


# Data sources that return a new value on every read (a fresh token, a generated password): like
# timestamp(), what they feed changes on every plan. type -> (attributes that are new on each
# read, None for all; what they return).
VOLATILE_DATA: dict[str, tuple[frozenset[str] | None, str]] = {
    "aws_ecr_authorization_token": (frozenset({"authorization_token", "password", "expires_at"}),
                                    "returns a new registry token on every read"),
    "aws_eks_cluster_auth": (frozenset({"token"}), "returns a new cluster token on every read"),
    "aws_secretsmanager_random_password": (frozenset({"random_password"}),
                                           "generates a new password on every read"),
    "google_client_config": (frozenset({"access_token"}), "returns a new access token on every read"),
    "google_service_account_access_token": (frozenset({"access_token"}),
                                            "returns a new access token on every read"),
}


def volatile_data(dtype: str, attr: tuple[str | int, ...] | list[str | int] = ()) -> str | None:
    """What a data source attribute returns when it is new on every read (see VOLATILE_DATA), else None."""
    found = VOLATILE_DATA.get(dtype)
    if found is None:
        return None
    attrs, words = found
    first = attr[0] if attr else None
    if attrs is None or (isinstance(first, str) and first in attrs):
        return words
    return None
