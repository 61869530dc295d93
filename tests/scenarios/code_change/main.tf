# Each instance is replaced ("tagged": updated in place) for its own reason in the next plan.
variable "ami" {
  type = string
}

variable "app_ami" {
  type        = string
  description = "Set in code review: a deliberate image change."
}

variable "rev" {
  type = string
}

resource "aws_security_group" "a" {
  name        = "code-change-a"
  description = "first group"
}

resource "aws_security_group" "b" {
  name        = "code-change-b"
  description = "second group"
}

# security_groups (by name) forces replacement; vpc_security_group_ids would not.
resource "aws_instance" "sg_change" {
  ami             = var.ami
  instance_type   = "t3.micro"
  security_groups = [aws_security_group.a.name]
}

resource "aws_instance" "user_data" {
  ami                         = var.ami
  instance_type               = "t3.micro"
  user_data                   = "#!/bin/sh\necho v1\n"
  user_data_replace_on_change = true
}

# A code change of the image through a variable: not a data source.
resource "aws_instance" "ami_var" {
  ami           = var.app_ami
  instance_type = "t3.micro"
}

# terraform taint aws_instance.tainted
resource "aws_instance" "tainted" {
  ami           = var.ami
  instance_type = "t3.micro"
}

# terraform plan -replace=aws_instance.by_request
resource "aws_instance" "by_request" {
  ami           = var.ami
  instance_type = "t3.micro"
}

resource "terraform_data" "rev" {
  input = var.rev
}

resource "aws_instance" "triggered" {
  ami           = var.ami
  instance_type = "t3.micro"

  lifecycle {
    replace_triggered_by = [terraform_data.rev]
  }
}

# Harmless: a tag change is an update in place.
resource "aws_instance" "tagged" {
  ami           = var.ami
  instance_type = "t3.micro"

  tags = {
    Name = "v1"
  }
}
