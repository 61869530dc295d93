variable "name" {
  type = string
}

resource "aws_ebs_volume" "v" {
  availability_zone = "eu-west-3a"
  size              = 1
  tags = {
    Name = var.name
  }
}
