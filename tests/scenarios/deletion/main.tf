# deletion_none after a code change that drops things:
# - aws_ebs_volume.scratch and aws_instance.old: removed from the code
# - aws_ebs_volume.pool: count 3 -> 2
# - aws_ebs_volume.by_name: key "b" dropped
# - aws_instance.kept: removed with a removed block that keeps the instance (forget)
# - module.worker: the module call removed
variable "ami" {
  type = string
}

resource "aws_ebs_volume" "pool" {
  count             = 2
  availability_zone = "ap-southeast-2a"
  size              = 1
}

resource "aws_ebs_volume" "by_name" {
  for_each          = toset(["a"])
  availability_zone = "ap-southeast-2a"
  size              = 1
}

removed {
  from = aws_instance.kept

  lifecycle {
    destroy = false
  }
}
