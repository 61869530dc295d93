# Stateful resources that the next code change ("deletion") removes in different ways.
variable "ami" {
  type = string
}

resource "aws_ebs_volume" "scratch" {
  availability_zone = "ap-southeast-2a"
  size              = 1
}

resource "aws_instance" "old" {
  ami           = var.ami
  instance_type = "t3.micro"
}

resource "aws_ebs_volume" "pool" {
  count             = 3
  availability_zone = "ap-southeast-2a"
  size              = 1
}

resource "aws_ebs_volume" "by_name" {
  for_each          = toset(["a", "b"])
  availability_zone = "ap-southeast-2a"
  size              = 1
}

resource "aws_instance" "kept" {
  ami           = var.ami
  instance_type = "t3.micro"
}

module "worker" {
  source = "./modules/worker"
}
