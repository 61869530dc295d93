# The provider takes its region from AWS_REGION. Applied with one region, planned with
# another: the instance is not found there, counted as deleted outside Terraform, and
# planned again, while the first one keeps running in the old region.
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
