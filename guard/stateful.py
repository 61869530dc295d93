"""Resource types whose replacement or deletion loses data, by default."""

DEFAULT_STATEFUL_TYPES: frozenset[str] = frozenset(
    {
        # instances and their disks
        "aws_instance", "aws_spot_instance_request", "aws_ebs_volume", "aws_volume_attachment",
        "aws_lightsail_instance", "aws_lightsail_disk",
        "google_compute_instance", "google_compute_disk", "azurerm_linux_virtual_machine",
        "azurerm_windows_virtual_machine", "azurerm_virtual_machine", "azurerm_managed_disk",
        # databases and clusters
        "aws_db_instance", "aws_rds_cluster", "aws_rds_cluster_instance", "aws_neptune_cluster",
        "aws_docdb_cluster", "aws_redshift_cluster", "aws_opensearch_domain",
        "aws_elasticsearch_domain", "aws_emr_cluster", "aws_msk_cluster", "aws_eks_cluster",
        "aws_eks_node_group", "aws_ecs_cluster", "aws_memorydb_cluster",
        "google_sql_database_instance", "google_sql_database", "google_container_cluster",
        "google_container_node_pool", "google_spanner_instance", "google_spanner_database",
        "google_bigtable_instance", "azurerm_mssql_database", "azurerm_mssql_server",
        "azurerm_postgresql_flexible_server", "azurerm_mysql_flexible_server",
        "azurerm_cosmosdb_account", "azurerm_kubernetes_cluster",
        # buckets, file systems, tables
        "aws_s3_bucket", "aws_efs_file_system", "aws_fsx_lustre_file_system",
        "aws_fsx_windows_file_system", "aws_fsx_ontap_file_system", "aws_fsx_openzfs_file_system",
        "aws_dynamodb_table", "aws_timestreamwrite_table", "aws_glacier_vault", "aws_backup_vault",
        "google_storage_bucket", "google_bigquery_dataset", "google_bigquery_table",
        "google_filestore_instance", "azurerm_storage_account", "azurerm_storage_container",
        # caches
        "aws_elasticache_cluster", "aws_elasticache_replication_group",
        "google_redis_instance", "azurerm_redis_cache",
        # queues and streams
        "aws_sqs_queue", "aws_kinesis_stream", "aws_mq_broker", "google_pubsub_topic",
        "google_pubsub_subscription", "azurerm_servicebus_queue",
        # snapshots and backups (deleting one deletes the copy)
        "aws_ebs_snapshot", "aws_db_snapshot", "aws_db_cluster_snapshot",
        "google_compute_snapshot",
        # more databases, tables and caches
        "aws_docdb_cluster_instance", "aws_neptune_cluster_instance", "aws_rds_global_cluster",
        "aws_dynamodb_global_table", "aws_dax_cluster", "aws_elasticache_serverless_cache",
        "aws_redshiftserverless_namespace", "aws_keyspaces_table", "aws_qldb_ledger", "aws_lightsail_database",
        "aws_opensearchserverless_collection", "google_firestore_database", "google_alloydb_cluster",
        "azurerm_postgresql_server", "azurerm_mysql_server", "azurerm_storage_share",
        # repositories, logs, user directories, DNS zones and addresses: what they hold cannot be recreated
        "aws_ecr_repository", "aws_codecommit_repository", "aws_cloudwatch_log_group", "aws_cognito_user_pool",
        "aws_route53_zone", "aws_eip", "google_artifact_registry_repository", "google_compute_address",
        "google_dns_managed_zone", "azurerm_container_registry", "azurerm_public_ip", "azurerm_dns_zone",
        # keys and secrets
        "aws_kms_key", "aws_secretsmanager_secret", "aws_key_pair", "aws_acmpca_certificate_authority",
        "google_kms_crypto_key", "google_kms_key_ring", "azurerm_key_vault", "azurerm_key_vault_key",
    }
)
