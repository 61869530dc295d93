# As ami_drift, but the image id passes through a local value, which the plan JSON omits.
data "aws_ami" "al2" {
  most_recent = true
  owners      = ["self"]

  filter {
    name   = "name"
    values = ["amzn2-ami-hvm-*"]
  }
}

locals {
  app_ami = data.aws_ami.al2.id
}

resource "aws_instance" "app" {
  ami           = local.app_ami
  instance_type = "t3.micro"

  tags = {
    Name = "app"
  }
}
