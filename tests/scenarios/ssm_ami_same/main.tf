# The image id is read from an SSM parameter that a build pipeline keeps up to date.
data "aws_ssm_parameter" "ami" {
  name = "/golden/ami"
}

resource "aws_instance" "app" {
  ami           = data.aws_ssm_parameter.ami.value
  instance_type = "t3.micro"

  tags = {
    Name = "app"
  }
}
