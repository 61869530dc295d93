variable "name" {
  type = string
}

resource "aws_ebs_volume" "v" {
  availability_zone = "af-south-1a"
  size              = 1
  tags = {
    Name = var.name
  }
}
