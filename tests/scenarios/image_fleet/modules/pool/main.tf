variable "name" {
  type = string
}

variable "image_id" {
  type = string
}

resource "aws_instance" "this" {
  ami           = var.image_id
  instance_type = "t3.micro"

  tags = {
    Name = var.name
  }
}
