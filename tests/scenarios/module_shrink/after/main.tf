variable "encrypted" {
  type    = bool
  default = true
}

module "disk" {
  source = "./modules/disk"
  count  = 1
  name   = "disk-${count.index}"
}

module "keyed" {
  source   = "./modules/disk"
  for_each = toset(["a"])
  name     = "keyed-${each.key}"
}

resource "aws_ebs_volume" "logs" {
  availability_zone = "eu-west-3a"
  size              = 1
  encrypted         = var.encrypted
}
