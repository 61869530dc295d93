data "aws_ami" "base" {
  most_recent = true
  owners      = ["self"]
  filter {
    name   = "name"
    values = ["community-*"]
  }
}

# The module from this repository: its files are the user's.
module "local_ec2" {
  source = "./modules/ec2"
  name   = "local"
  ami    = data.aws_ami.base.id
}

# The same module from git: terraform get installs it into .terraform/modules, a download cache.
module "git_ec2" {
  source = "git::file://@GIT@/ec2?ref=v1"
  name   = "git"
  ami    = data.aws_ami.base.id
}

# No ami: the module looks the image up in SSM itself.
module "ssm_ec2" {
  source            = "git::file://@GIT@/ec2?ref=v1"
  name              = "ssm"
  ami_ssm_parameter = "/community/ami"
}
