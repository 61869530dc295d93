# The image id reaches the instances through a module input, for two for_each keys.
data "aws_ami" "al2" {
  most_recent = true
  owners      = ["self"]

  filter {
    name   = "name"
    values = ["amzn2-ami-hvm-*"]
  }
}

module "app" {
  source   = "./modules/app"
  for_each = toset(["blue", "green"])

  ami_id = data.aws_ami.al2.id
  name   = each.key
}
