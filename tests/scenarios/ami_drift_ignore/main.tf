# As ami_drift, with the fix the guard suggests: ignore changes to ami.
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
    ignore_changes = [ami]
  }
}
