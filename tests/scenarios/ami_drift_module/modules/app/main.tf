variable "ami_id" {
  type = string
}

variable "name" {
  type = string
}

resource "aws_instance" "this" {
  ami           = var.ami_id
  instance_type = "t3.micro"

  tags = {
    Name = var.name
  }
}
