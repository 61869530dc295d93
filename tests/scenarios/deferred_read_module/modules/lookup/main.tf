variable "image_name" {
  type = string
}

data "aws_ami" "this" {
  owners = ["self"]
  filter {
    name   = "name"
    values = [var.image_name]
  }
}

output "image_id" {
  value = data.aws_ami.this.id
}
