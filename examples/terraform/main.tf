# The seed's multi-region setup for one service, as lifeboat expects to find it: an RDS PostgreSQL
# primary in the primary region, its cross-region read replica in the DR region, backups in an S3
# bucket in the DR region (replicated from one beside the primary), a Route 53 zone with the
# database's failover records (PRIMARY with a health check, SECONDARY on the replica), and the IAM
# role lifeboat runs as, with exactly docs/iam-policy.json's permissions.
#
#   terraform init && terraform apply -var 'zone_name=example.com' -var 'db_password=…'
#
# then write the outputs into lifeboat.yml (lifeboat.example.yml beside this file shows where), and run
# `lifeboat check config --live` from where the role's credentials are.

terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.40" }
  }
}

variable "primary_region" {
  type    = string
  default = "us-east-1"
}
variable "dr_region" {
  type    = string
  default = "us-west-2"
}
variable "name" {
  type    = string
  default = "production"
}
variable "zone_name" {
  type = string
}
variable "db_password" {
  type      = string
  sensitive = true
}
variable "lifeboat_principal_arn" {
  description = "who may assume the lifeboat role (the account or role lifeboat's host runs as)"
  type        = string
}

provider "aws" {
  alias  = "primary"
  region = var.primary_region
}
provider "aws" {
  alias  = "dr"
  region = var.dr_region
}

data "aws_caller_identity" "current" {
  provider = aws.primary
}

# --- the databases -------------------------------------------------------------------------------

resource "aws_db_instance" "primary" {
  provider                = aws.primary
  identifier              = "${var.name}-primary"
  engine                  = "postgres"
  engine_version          = "16"
  instance_class          = "db.r6g.large"
  allocated_storage       = 100
  storage_encrypted       = true
  username                = "lifeboat_admin"
  password                = var.db_password
  backup_retention_period = 7 # required for a read replica
  skip_final_snapshot     = false
  final_snapshot_identifier = "${var.name}-primary-final"
}

resource "aws_kms_key" "dr" {
  provider    = aws.dr
  description = "${var.name} DR replica and backups"
}

resource "aws_db_instance" "replica" {
  provider            = aws.dr
  identifier          = "${var.name}-dr"
  replicate_source_db = aws_db_instance.primary.arn # cross-region: the ARN
  instance_class      = "db.r6g.large"
  storage_encrypted   = true
  kms_key_id          = aws_kms_key.dr.arn
  skip_final_snapshot = true
}

# For fence mode security-group: a group that lets no client in (no ingress rules).
data "aws_db_subnet_group" "primary" {
  provider = aws.primary
  name     = aws_db_instance.primary.db_subnet_group_name
}
resource "aws_security_group" "fence" {
  provider    = aws.primary
  name        = "${var.name}-fence"
  description = "lifeboat fence: no client may connect"
  vpc_id      = data.aws_db_subnet_group.primary.vpc_id
}

# --- backups: written beside the primary, replicated to the DR region, read from there ------------

resource "aws_s3_bucket" "backups" {
  provider = aws.primary
  bucket   = "${var.name}-backups-${data.aws_caller_identity.current.account_id}"
}
resource "aws_s3_bucket" "backups_dr" {
  provider = aws.dr
  bucket   = "${var.name}-backups-dr-${data.aws_caller_identity.current.account_id}"
}
resource "aws_s3_bucket_versioning" "backups" {
  provider = aws.primary
  bucket   = aws_s3_bucket.backups.id
  versioning_configuration { status = "Enabled" }
}
resource "aws_s3_bucket_versioning" "backups_dr" {
  provider = aws.dr
  bucket   = aws_s3_bucket.backups_dr.id
  versioning_configuration { status = "Enabled" }
}

resource "aws_iam_role" "replication" {
  provider = aws.primary
  name     = "${var.name}-backups-replication"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "s3.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}
resource "aws_iam_role_policy" "replication" {
  provider = aws.primary
  role     = aws_iam_role.replication.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
        Resource = aws_s3_bucket.backups.arn
      },
      {
        Effect   = "Allow"
        Action   = ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"]
        Resource = "${aws_s3_bucket.backups.arn}/*"
      },
      {
        Effect   = "Allow"
        Action   = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]
        Resource = "${aws_s3_bucket.backups_dr.arn}/*"
      },
    ]
  })
}
resource "aws_s3_bucket_replication_configuration" "backups" {
  provider   = aws.primary
  depends_on = [aws_s3_bucket_versioning.backups, aws_s3_bucket_versioning.backups_dr]
  bucket     = aws_s3_bucket.backups.id
  role       = aws_iam_role.replication.arn
  rule {
    id     = "to-the-dr-region"
    status = "Enabled"
    filter { prefix = "postgres/" }
    delete_marker_replication { status = "Disabled" }
    destination {
      bucket        = aws_s3_bucket.backups_dr.arn
      storage_class = "STANDARD_IA"
    }
  }
}

# --- DNS: failover records, PRIMARY with a health check ------------------------------------------

resource "aws_route53_zone" "main" {
  provider = aws.primary
  name     = var.zone_name
}

resource "aws_route53_health_check" "primary" {
  provider          = aws.primary
  type              = "TCP"
  fqdn              = aws_db_instance.primary.address
  port              = 5432
  failure_threshold = 3
  request_interval  = 10
  tags              = { Name = "${var.name}-primary" }
}

resource "aws_route53_record" "db_primary" {
  provider        = aws.primary
  zone_id         = aws_route53_zone.main.zone_id
  name            = "db.${var.zone_name}"
  type            = "CNAME"
  ttl             = 60
  records         = [aws_db_instance.primary.address]
  set_identifier  = var.primary_region
  health_check_id = aws_route53_health_check.primary.id
  failover_routing_policy { type = "PRIMARY" }
}

resource "aws_route53_record" "db_secondary" {
  provider       = aws.primary
  zone_id        = aws_route53_zone.main.zone_id
  name           = "db.${var.zone_name}"
  type           = "CNAME"
  ttl            = 60
  records        = [aws_db_instance.replica.address]
  set_identifier = var.dr_region
  failover_routing_policy { type = "SECONDARY" }
}

# --- the role lifeboat runs as: exactly the calls it makes (docs/iam-policy.json) ----------------

locals {
  account   = data.aws_caller_identity.current.account_id
  instances = [aws_db_instance.primary.arn, aws_db_instance.replica.arn]
}

resource "aws_iam_role" "lifeboat" {
  provider = aws.primary
  name     = "lifeboat"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = var.lifeboat_principal_arn }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "lifeboat" {
  provider = aws.primary
  role     = aws_iam_role.lifeboat.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "ReadInstanceState", Effect = "Allow", Action = ["rds:DescribeDBInstances"], Resource = local.instances },
      {
        Sid      = "FenceUnfenceAndPromote"
        Effect   = "Allow"
        Action   = ["rds:ModifyDBInstance", "rds:StopDBInstance", "rds:StartDBInstance", "rds:PromoteReadReplica"]
        Resource = local.instances
      },
      {
        Sid    = "RebuildTheReplica"
        Effect = "Allow"
        Action = ["rds:CreateDBInstanceReadReplica", "rds:ModifyDBInstance"]
        Resource = concat(local.instances, [
          "arn:aws:rds:${var.primary_region}:${local.account}:db:${var.name}-primary-old-*",
          "arn:aws:rds:${var.dr_region}:${local.account}:db:${var.name}-dr-old-*",
        ])
      },
      { Sid = "ReadReplicaLagMetric", Effect = "Allow", Action = ["cloudwatch:GetMetricData"], Resource = "*" },
      {
        Sid      = "SwitchTheDatabaseRecord"
        Effect   = "Allow"
        Action   = ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"]
        Resource = aws_route53_zone.main.arn
      },
      { Sid = "WaitForTheChange", Effect = "Allow", Action = ["route53:GetChange"], Resource = "arn:aws:route53:::change/*" },
      {
        Sid      = "ForceFailoverRouting"
        Effect   = "Allow"
        Action   = ["route53:GetHealthCheck", "route53:GetHealthCheckStatus", "route53:UpdateHealthCheck"]
        Resource = "arn:aws:route53:::healthcheck/${aws_route53_health_check.primary.id}"
      },
      {
        Sid       = "ListBackups"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = aws_s3_bucket.backups_dr.arn
        Condition = { StringLike = { "s3:prefix" = ["postgres/*"] } }
      },
      { Sid = "WhereTheBackupsLive", Effect = "Allow", Action = ["s3:GetBucketLocation"], Resource = aws_s3_bucket.backups_dr.arn },
      { Sid = "ReadBackups", Effect = "Allow", Action = ["s3:GetObject"], Resource = "${aws_s3_bucket.backups_dr.arn}/postgres/*" },
      { Sid = "AnchorTheAuditLog", Effect = "Allow", Action = ["s3:PutObject"], Resource = "${aws_s3_bucket.backups_dr.arn}/lifeboat-audit/*" },
      # Lets `lifeboat check config --live` ask IAM's policy simulator about this role's own
      # permissions to promote, fence and switch (AWS has no dry run for those calls).
      {
        Sid      = "OptionalSimulateOwnPolicy"
        Effect   = "Allow"
        Action   = ["iam:SimulatePrincipalPolicy"]
        Resource = "arn:aws:iam::${local.account}:role/lifeboat"
      },
      {
        Sid       = "OptionalKmsForEncryptedBackups"
        Effect    = "Allow"
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = aws_kms_key.dr.arn
        Condition = { StringEquals = { "kms:ViaService" = "s3.${var.dr_region}.amazonaws.com" } }
      },
    ]
  })
}

output "zone_id" { value = aws_route53_zone.main.zone_id }
output "record" { value = "db.${var.zone_name}" }
output "primary" { value = { id = aws_db_instance.primary.identifier, region = var.primary_region } }
output "replica" { value = { id = aws_db_instance.replica.identifier, region = var.dr_region } }
output "fence_security_group_id" { value = aws_security_group.fence.id }
output "backups_bucket" { value = aws_s3_bucket.backups_dr.bucket }
output "lifeboat_role_arn" { value = aws_iam_role.lifeboat.arn }
