# Changes made outside Terraform that the next apply undoes, and values that change on every run.
variable "image_id" {
  type = string
}

variable "password" {
  type      = string
  sensitive = true
}

# Someone adds an SSH rule in the console during an incident (after the apply): the plan's
# update sets `ingress` back to what the code says.
resource "aws_security_group" "web" {
  name        = "h5-web"
  description = "web servers"

  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = {
    Team = "web"
  }
}

# The billing system needs a CostCenter tag; someone adds it with the CLI. The plan removes it.
resource "aws_ebs_volume" "data" {
  availability_zone = "ap-northeast-2a"
  size              = 1

  tags = {
    Name = "h5-data"
  }
}

# timestamp() in user data, with user_data_replace_on_change: a new instance on every apply.
resource "aws_instance" "stamped" {
  ami                         = var.image_id
  instance_type               = "t3.micro"
  user_data                   = "#!/bin/sh\necho built at ${timestamp()}\n"
  user_data_replace_on_change = true
}

# timestamp() in user data without it: the instance is stopped and started on every apply.
resource "aws_instance" "restarted" {
  ami           = var.image_id
  instance_type = "t3.micro"
  user_data     = "#!/bin/sh\necho booted after ${timestamp()}\n"
}

# bcrypt() salts every hash anew: a new secret version on every apply.
resource "aws_secretsmanager_secret" "app" {
  name                    = "h5-app"
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "app" {
  secret_id     = aws_secretsmanager_secret.app.id
  secret_string = bcrypt(var.password)
}
