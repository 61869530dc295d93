# Stateful resources replaced or deleted by the code change in after/:
# - aws_instance.web: a second security group by name (security_groups forces replacement);
#   aws_ebs_volume.web_data follows its zone, so it is replaced because the instance is;
# - aws_ebs_volume.pinned: a constant availability zone changed;
# - aws_ebs_volume.old_name: renamed to new_name without a moved block.
variable "ami" {
  type = string
}

resource "aws_security_group" "app" {
  name = "cascade-app"
}

resource "aws_security_group" "ssh" {
  name = "cascade-ssh"
}

resource "aws_instance" "web" {
  ami             = var.ami
  instance_type   = "t3.micro"
  security_groups = [aws_security_group.app.name]
}

resource "aws_ebs_volume" "web_data" {
  availability_zone = aws_instance.web.availability_zone
  size              = 1
}

resource "aws_ebs_volume" "pinned" {
  availability_zone = "eu-north-1a"
  size              = 2
}

resource "aws_ebs_volume" "old_name" {
  availability_zone = "eu-north-1a"
  size              = 3
}
