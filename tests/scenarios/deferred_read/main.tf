# depends_on on a resource that changes in this plan makes Terraform read the data
# source during the apply: the image id is unknown at plan time, so ami "changes".
variable "rev" {
  type = string
}

resource "terraform_data" "release" {
  input = var.rev
}

data "aws_ami" "al2" {
  most_recent = true
  owners      = ["self"]

  filter {
    name   = "name"
    values = ["amzn2-ami-hvm-*"]
  }

  depends_on = [terraform_data.release]
}

resource "aws_instance" "app" {
  ami           = data.aws_ami.al2.id
  instance_type = "t3.micro"

  tags = {
    Name = "app"
  }
}
