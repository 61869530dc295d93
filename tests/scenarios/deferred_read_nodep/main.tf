# As deferred_read without depends_on: the data source is read at plan time, finds
# the same image, and only terraform_data.release changes.
variable "rev" {
  type = string
}

resource "terraform_data" "release" {
  input = var.rev
}

data "aws_ami" "al2" {
  most_recent = true
  owners      = ["self"]

  filter {
    name   = "name"
    values = ["amzn2-ami-hvm-*"]
  }
}

resource "aws_instance" "app" {
  ami           = data.aws_ami.al2.id
  instance_type = "t3.micro"

  tags = {
    Name = "app"
  }
}
