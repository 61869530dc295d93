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
  security_groups = [aws_security_group.app.name, aws_security_group.ssh.name]
}

resource "aws_ebs_volume" "web_data" {
  availability_zone = aws_instance.web.availability_zone
  size              = 1
}

resource "aws_ebs_volume" "pinned" {
  availability_zone = "eu-north-1b"
  size              = 2
}

resource "aws_ebs_volume" "new_name" {
  availability_zone = "eu-north-1a"
  size              = 3
}
