variable "encrypted" {
  type    = bool
  default = false
}

module "disk" {
  source = "./modules/disk"
  count  = 2
  name   = "disk-${count.index}"
}

module "keyed" {
  source   = "./modules/disk"
  for_each = toset(["a", "b"])
  name     = "keyed-${each.key}"
}

resource "aws_ebs_volume" "logs" {
  availability_zone = "eu-west-3a"
  size              = 1
  encrypted         = var.encrypted
}
