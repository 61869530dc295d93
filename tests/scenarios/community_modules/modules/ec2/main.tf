# A small instance module in the style of the community ones: an image given or looked up, and an
# instance variant that ignores image changes, selected by a switch.
variable "create" {
  type    = bool
  default = true
}

variable "name" {
  type    = string
  default = ""
}

variable "ami" {
  description = "Image id; when null, the image named by the SSM parameter"
  type        = string
  default     = null
}

variable "ami_ssm_parameter" {
  type    = string
  default = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

variable "ignore_ami_changes" {
  description = "Whether Terraform ignores changes of the image id (changing this switch replaces the instance unless it is moved)"
  type        = bool
  default     = false
}

variable "instance_type" {
  type    = string
  default = "t3.micro"
}

data "aws_ssm_parameter" "this" {
  count = var.create && var.ami == null ? 1 : 0
  name  = var.ami_ssm_parameter
}

locals {
  image = try(coalesce(var.ami, try(nonsensitive(data.aws_ssm_parameter.this[0].value), null)), null)
}

resource "aws_instance" "this" {
  count = var.create && !var.ignore_ami_changes ? 1 : 0

  ami           = local.image
  instance_type = var.instance_type
  tags = {
    Name = var.name
  }
}

resource "aws_instance" "ignore_ami" {
  count = var.create && var.ignore_ami_changes ? 1 : 0

  ami           = local.image
  instance_type = var.instance_type
  tags = {
    Name = var.name
  }

  lifecycle {
    ignore_changes = [ami]
  }
}

output "id" {
  value = try(aws_instance.this[0].id, aws_instance.ignore_ami[0].id, null)
}
