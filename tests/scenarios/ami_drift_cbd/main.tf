# As ami_drift, with create_before_destroy: the replacement is create, then delete.
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

  lifecycle {
    create_before_destroy = true
  }
}
