# Two instances take their AMI from the same SSM parameter: one through `value` (marked
# sensitive), one through `insecure_value` (the same text, not marked). A volume follows the
# first instance's zone, so it is replaced when the instance is.
data "aws_ssm_parameter" "ami" {
  name = "/golden-insecure/ami"
}

resource "aws_instance" "app" {
  ami           = data.aws_ssm_parameter.ami.value
  instance_type = "t3.micro"
}

resource "aws_instance" "batch" {
  ami           = data.aws_ssm_parameter.ami.insecure_value
  instance_type = "t3.micro"
}

resource "aws_ebs_volume" "app_data" {
  availability_zone = aws_instance.app.availability_zone
  size              = 1
}
