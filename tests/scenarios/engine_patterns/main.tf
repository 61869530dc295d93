# Every instance here is replaced because a newer image appeared after the apply; nobody changed the code.
variable "latest" {
  type    = bool
  default = true
}

variable "use_pinned" {
  type    = bool
  default = false
}

variable "pinned" {
  type    = string
  default = "ami-12345678"
}

data "aws_ami" "base" {
  most_recent = var.latest # true, through a variable
  owners      = ["self"]
  filter {
    name   = "name"
    values = ["engine-base-*"]
  }
}

# One image per role, read with for_each; each instance reads its own key.
data "aws_ami" "role" {
  for_each    = toset(["web", "api"])
  most_recent = true
  owners      = ["self"]
  filter {
    name   = "name"
    values = [each.key == "web" ? "engine-base-*" : "engine-app-*"]
  }
}

locals {
  base_ami   = data.aws_ami.base.id
  chosen_ami = local.base_ami
}

# The image id kept by a terraform_data: the instance below is pinned, but its trigger follows the image.
resource "terraform_data" "image" {
  input = data.aws_ami.base.id
}

resource "aws_instance" "triggered" {
  ami           = var.pinned
  instance_type = "t3.micro"

  lifecycle {
    replace_triggered_by = [terraform_data.image]
  }
}

resource "aws_instance" "by_value" {
  for_each      = { web = data.aws_ami.base.id }
  ami           = each.value
  instance_type = "t3.micro"
}

resource "aws_instance" "by_role" {
  for_each      = toset(["web", "api"])
  ami           = data.aws_ami.role[each.key].id
  instance_type = "t3.micro"
}

module "images" {
  source = "./modules/img"
}

resource "aws_instance" "from_output" {
  ami           = module.images.app_ami
  instance_type = "t3.micro"
}

resource "aws_instance" "user_data" {
  ami                         = var.pinned
  instance_type               = "t3.micro"
  user_data                   = "image=${data.aws_ami.base.id}"
  user_data_replace_on_change = true
}

resource "aws_instance" "conditional" {
  ami           = var.use_pinned ? var.pinned : data.aws_ami.base.id
  instance_type = "t3.micro"
}

resource "aws_instance" "via_locals" {
  ami           = local.chosen_ami
  instance_type = "t3.micro"
}
