# Data sources that Terraform reads during apply, other than by their own depends_on:
# - module.lookup's call depends_on a group whose tag changes (read_because_dependency_pending);
# - data.aws_ami.by_release has an argument known only after apply (read_because_config_unknown).
variable "rev" {
  type = string
}

resource "aws_security_group" "app" {
  name = "deferred-module-app"
  tags = {
    Rev = var.rev
  }
}

module "lookup" {
  source     = "./modules/lookup"
  image_name = "app-1.0"
  depends_on = [aws_security_group.app]
}

resource "aws_instance" "from_module" {
  ami           = module.lookup.image_id
  instance_type = "t3.micro"
}

resource "terraform_data" "release" {
  input = var.rev
}

data "aws_ami" "by_release" {
  owners = ["self"]
  filter {
    name = "name"
    # "app-1.0" once terraform_data.release is applied: its output is unknown until then
    values = ["app-1.0${substr(terraform_data.release.output, 0, 0)}"]
  }
}

resource "aws_instance" "by_release" {
  ami           = data.aws_ami.by_release.id
  instance_type = "t3.micro"
}
