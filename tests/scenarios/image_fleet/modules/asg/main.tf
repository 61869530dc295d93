# An auto scaling group with its launch template, written for these tests in the shape of the
# popular registry modules: counts on a `create` switch, the group under a mixed instances policy,
# the launch template version chosen by a local conditional, instance refresh as a dynamic block.
variable "name" {
  type = string
}

variable "image_id" {
  type = string
}

variable "zones" {
  type = list(string)
}

variable "create" {
  type    = bool
  default = true
}

variable "template_version" {
  description = "the version the group launches; null: the template's latest version"
  type        = string
  default     = null
}

variable "instance_refresh" {
  type    = bool
  default = false
}

variable "desired_capacity" {
  type    = number
  default = 2
}

locals {
  template_version = var.create && var.template_version == null ? aws_launch_template.this[0].latest_version : var.template_version
}

resource "aws_launch_template" "this" {
  count = var.create ? 1 : 0

  name          = var.name
  image_id      = var.image_id
  instance_type = "t3.micro"
}

resource "aws_autoscaling_group" "this" {
  count = var.create ? 1 : 0

  name                      = var.name
  min_size                  = 0
  max_size                  = 4
  desired_capacity          = var.desired_capacity
  availability_zones        = var.zones
  wait_for_capacity_timeout = "0"

  mixed_instances_policy {
    launch_template {
      launch_template_specification {
        launch_template_id = aws_launch_template.this[0].id
        version            = local.template_version
      }

      override {
        instance_type = "t3.micro"
      }

      override {
        instance_type = "t3.small"
      }
    }
  }

  dynamic "instance_refresh" {
    for_each = var.instance_refresh ? [1] : []
    content {
      strategy = "Rolling"
    }
  }
}
