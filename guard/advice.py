"""Advice per attribute that forces replacement: the one table users read with
`replace-guard rules TFG010`.

The plan says which attributes force a replacement (`replace_paths`); this table only says,
for the attributes people meet most, what the change means and how to get what they wanted
without losing the object. It is looked up by resource type and attribute path (list indexes
left out, so `root_block_device.encrypted` matches `["root_block_device", 0, "encrypted"]`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Advice:
    type: str
    attr: str
    why: str  # what changing it does, in a sentence
    fix: str  # what to do instead
    snippet: str | None = None


_INSTANCE_KEEP = "lifecycle {{\n  ignore_changes = [{attr}]\n}}"

ADVICE: tuple[Advice, ...] = (
    # -- aws_instance ----------------------------------------------------------------------
    Advice("aws_instance", "ami",
           "A new image can only be used by a new instance: the running one is destroyed with its root disk.",
           "Keep the running instance with `ignore_changes = [ami]` and roll images out through a launch template "
           "and an auto scaling group, or keep data on a separate EBS volume so a rebuilt instance loses nothing.",
           _INSTANCE_KEEP.format(attr="ami")),
    Advice("aws_instance", "security_groups",
           "`security_groups` (names, EC2-Classic and default VPC style) cannot be changed on a running instance.",
           "Use `vpc_security_group_ids` (ids), which updates in place. Moving from one to the other also forces a "
           "replacement once: do it with `ignore_changes = [security_groups]` and attach groups by id.",
           "vpc_security_group_ids = [aws_security_group.app.id]"),
    Advice("aws_instance", "user_data",
           "With `user_data_replace_on_change = true` any change of `user_data` rebuilds the instance.",
           "Remove `user_data_replace_on_change` (default false): the provider then stops the instance, sets the "
           "new user data and starts it again; remember that cloud-init runs user data only on first boot.",
           "user_data_replace_on_change = false"),
    Advice("aws_instance", "user_data_base64",
           "With `user_data_replace_on_change = true` any change of `user_data_base64` rebuilds the instance.",
           "Remove `user_data_replace_on_change` (default false) to update it with a stop and start instead.",
           "user_data_replace_on_change = false"),
    Advice("aws_instance", "availability_zone",
           "An instance cannot move to another availability zone.",
           "Pin the zone the instance is in (`availability_zone = \"...\"`), especially when it comes from "
           "`data.aws_availability_zones`, whose list can change."),
    Advice("aws_instance", "subnet_id",
           "An instance cannot move to another subnet; a replaced subnet replaces every instance in it.",
           "Keep the subnet the instance is in; if the subnet itself is replaced, fix that first (its cidr_block or "
           "availability_zone)."),
    Advice("aws_instance", "key_name",
           "The key pair is set at launch only.",
           "Keep `key_name` and add keys on the machine (SSM, config management, or `authorized_keys` in user data); "
           "or `ignore_changes = [key_name]`.",
           _INSTANCE_KEEP.format(attr="key_name")),
    Advice("aws_instance", "private_ip",
           "The primary private IP is set at launch only.",
           "Keep the address, or add a secondary address / an ENI (`aws_network_interface`) instead."),
    Advice("aws_instance", "associate_public_ip_address",
           "Whether the instance gets a public IP is decided at launch.",
           "Attach an `aws_eip` to the running instance instead."),
    Advice("aws_instance", "placement_group",
           "The placement group is chosen at launch.",
           "Keep the group, or plan a rebuild on purpose with data on a separate volume."),
    Advice("aws_instance", "tenancy",
           "Tenancy is chosen at launch.",
           "Keep the tenancy; plan a rebuild on purpose if it must change."),
    Advice("aws_instance", "iam_instance_profile",
           "Some provider versions replace the instance when the profile changes.",
           "Keep the profile and change the permissions of its role instead: the role's policies update in place."),
    Advice("aws_instance", "ebs_block_device",
           "Inline `ebs_block_device` blocks are part of the instance: changing one replaces it.",
           "Manage extra disks as `aws_ebs_volume` + `aws_volume_attachment`, which leave the instance alone."),
    Advice("aws_instance", "root_block_device.encrypted",
           "Encryption of the root volume is decided at launch.",
           "Build a new encrypted instance on purpose (snapshot, copy encrypted, launch) and keep this one "
           "with `ignore_changes` until then."),
    Advice("aws_instance", "root_block_device.kms_key_id",
           "The root volume's key is decided at launch.",
           "Keep the key; re-encrypt through a snapshot copy in a planned migration."),
    Advice("aws_instance", "network_interface",
           "The primary network interface is attached at launch.",
           "Attach additional interfaces with `aws_network_interface_attachment` instead."),
    Advice("aws_instance", "launch_template",
           "An instance takes its launch template at launch.",
           "Use launch templates with an auto scaling group and an instance refresh, or `ignore_changes = "
           "[launch_template]` on a single instance."),
    # -- disks -----------------------------------------------------------------------------
    Advice("aws_ebs_volume", "availability_zone",
           "A volume cannot move between availability zones: the new one starts empty.",
           "Pin the zone; to move data, snapshot the volume and create the new one from `snapshot_id`."),
    Advice("aws_ebs_volume", "snapshot_id",
           "A volume is created from a snapshot once; a new snapshot_id means a new, different volume.",
           "Keep the volume with `ignore_changes = [snapshot_id]` once it exists.",
           _INSTANCE_KEEP.format(attr="snapshot_id")),
    Advice("aws_ebs_volume", "encrypted",
           "Encryption is decided when the volume is created.",
           "Migrate on purpose: snapshot, copy the snapshot encrypted, create the volume from it."),
    Advice("aws_ebs_volume", "kms_key_id",
           "A volume's key is decided when it is created.",
           "Migrate on purpose through an encrypted snapshot copy."),
    Advice("aws_volume_attachment", "device_name",
           "An attachment is replaced when the device name changes (the volume itself survives).",
           "Harmless for the data, but the volume is detached and attached again: plan for the downtime."),
    # -- databases -------------------------------------------------------------------------
    Advice("aws_db_instance", "identifier",
           "The identifier is the database's name in AWS: a new one means a new, empty database.",
           "Keep the identifier; to rename, restore a final snapshot under the new name on purpose and switch "
           "clients over."),
    Advice("aws_db_instance", "identifier_prefix",
           "A new prefix means a new database.",
           "Keep the prefix."),
    Advice("aws_db_instance", "engine",
           "Changing the engine creates a new, empty database.",
           "Keep the engine; migrate with a dump/restore or AWS DMS on purpose."),
    Advice("aws_db_instance", "username",
           "The master user name is set at creation.",
           "Keep it; manage other users inside the database."),
    Advice("aws_db_instance", "db_name",
           "The initial database name is set at creation.",
           "Keep it (`ignore_changes = [db_name]`); create further databases inside the instance.",
           _INSTANCE_KEEP.format(attr="db_name")),
    Advice("aws_db_instance", "storage_encrypted",
           "Encryption at rest is decided at creation.",
           "Restore an encrypted snapshot copy into a new instance on purpose, then switch over."),
    Advice("aws_db_instance", "kms_key_id",
           "The key is decided at creation.",
           "Migrate on purpose through an encrypted snapshot copy."),
    Advice("aws_db_instance", "availability_zone",
           "A single-AZ database cannot move zones in place.",
           "Remove `availability_zone` and use `multi_az = true` to gain a standby in another zone, which updates "
           "in place."),
    Advice("aws_db_instance", "snapshot_identifier",
           "A database is restored from a snapshot once; a new snapshot_identifier creates a new database.",
           "Once created, keep it with `ignore_changes = [snapshot_identifier]`.",
           _INSTANCE_KEEP.format(attr="snapshot_identifier")),
    Advice("aws_db_instance", "character_set_name",
           "The character set is set at creation.",
           "Keep it."),
    Advice("aws_db_instance", "timezone",
           "The time zone is set at creation.",
           "Keep it."),
    Advice("aws_rds_cluster", "cluster_identifier",
           "A new identifier means a new, empty cluster.",
           "Keep the identifier."),
    Advice("aws_rds_cluster", "engine",
           "Changing the engine creates a new, empty cluster.",
           "Keep the engine; migrate on purpose."),
    Advice("aws_rds_cluster", "master_username",
           "The master user name is set at creation.",
           "Keep it."),
    Advice("aws_rds_cluster", "database_name",
           "The initial database name is set at creation.",
           "Keep it (`ignore_changes = [database_name]`).",
           _INSTANCE_KEEP.format(attr="database_name")),
    Advice("aws_rds_cluster", "storage_encrypted",
           "Encryption at rest is decided at creation.",
           "Migrate on purpose through an encrypted snapshot."),
    Advice("aws_rds_cluster", "availability_zones",
           "Some provider versions replace the cluster when the zone list differs from what AWS reports.",
           "Add `ignore_changes = [availability_zones]`, or list exactly the zones the cluster is in.",
           _INSTANCE_KEEP.format(attr="availability_zones")),
    Advice("aws_rds_cluster", "snapshot_identifier",
           "A cluster is restored from a snapshot once.",
           "Once created, keep it with `ignore_changes = [snapshot_identifier]`.",
           _INSTANCE_KEEP.format(attr="snapshot_identifier")),
    Advice("aws_dynamodb_table", "name",
           "A new name means a new, empty table.",
           "Keep the name."),
    Advice("aws_dynamodb_table", "hash_key",
           "The partition key is fixed at creation.",
           "Create a new table and copy the data on purpose (export/import)."),
    Advice("aws_dynamodb_table", "range_key",
           "The sort key is fixed at creation.",
           "Create a new table and copy the data on purpose."),
    Advice("aws_dynamodb_table", "local_secondary_index",
           "Local secondary indexes can only be defined at creation.",
           "Use a global secondary index, which can be added in place."),
    Advice("aws_elasticache_cluster", "engine",
           "Changing the engine creates a new, empty cache.", "Keep the engine."),
    Advice("aws_elasticache_cluster", "cluster_id",
           "A new id means a new cache.", "Keep the id."),
    Advice("aws_elasticache_replication_group", "replication_group_id",
           "A new id means a new replication group.", "Keep the id."),
    Advice("aws_elasticache_replication_group", "at_rest_encryption_enabled",
           "Encryption at rest is decided at creation.", "Migrate on purpose from a backup."),
    # -- storage and queues ------------------------------------------------------------------
    Advice("aws_s3_bucket", "bucket",
           "A bucket cannot be renamed: the new bucket is empty, and the old one is deleted (if empty or "
           "`force_destroy` is set).",
           "Keep the name; copy objects to a new bucket on purpose if you must rename."),
    Advice("aws_s3_bucket", "bucket_prefix",
           "A new prefix means a new bucket.", "Keep the prefix."),
    Advice("aws_efs_file_system", "creation_token",
           "The creation token identifies the file system: a new one means a new, empty file system.",
           "Keep the token."),
    Advice("aws_efs_file_system", "encrypted",
           "Encryption is decided at creation.",
           "Create a new file system and copy the data (AWS DataSync) on purpose."),
    Advice("aws_efs_file_system", "performance_mode",
           "The performance mode is decided at creation.", "Create a new file system on purpose and copy the data."),
    Advice("aws_sqs_queue", "name",
           "A new name means a new queue: messages in the old one are lost.", "Keep the name."),
    Advice("aws_sqs_queue", "fifo_queue",
           "A queue cannot switch between standard and FIFO.", "Create the new queue beside the old one and drain it."),
    Advice("aws_kinesis_stream", "name",
           "A new name means a new stream.", "Keep the name."),
    Advice("aws_kms_key", "customer_master_key_spec",
           "The key spec is fixed at creation; data encrypted with the old key needs it to be decrypted.",
           "Create a second key and re-encrypt on purpose; never let the old key be scheduled for deletion unplanned."),
    Advice("aws_kms_key", "key_usage",
           "Key usage is fixed at creation.", "Create a second key on purpose."),
    Advice("aws_secretsmanager_secret", "name",
           "A new name means a new secret; the old one is scheduled for deletion.", "Keep the name."),
    Advice("aws_key_pair", "public_key",
           "A key pair's public key cannot change; instances launched with it keep the old key.",
           "Add a second key pair for the new key instead of changing this one."),
    Advice("aws_key_pair", "key_name",
           "A new name means a new key pair; instances that use `key_name` may be replaced too.",
           "Keep the name."),
)

_INDEX: dict[tuple[str, str], Advice] = {(a.type, a.attr): a for a in ADVICE}


def advice_for(rtype: str, path: list[str | int] | tuple) -> Advice | None:
    """The advice for a forcing attribute path, the longest matching attribute first."""
    steps = [p for p in path if isinstance(p, str)]
    for n in range(len(steps), 0, -1):
        found = _INDEX.get((rtype, ".".join(steps[:n])))
        if found is not None:
            return found
    return None


def advice_table() -> str:
    """The whole table as text, grouped by resource type."""
    lines: list[str] = []
    current = None
    for a in ADVICE:
        if a.type != current:
            if lines:
                lines.append("")
            lines.append(a.type)
            current = a.type
        lines.append(f"  {a.attr}: {a.why}")
        lines.append(f"    fix: {a.fix}")
    return "\n".join(lines)


