# One image lookup feeds a fleet: instances (for_each and module instances), auto scaling groups
# on launch templates and launch configurations, with and without instance refresh. A newer image
# is published after the apply.
data "aws_ami" "al2" {
  most_recent = true
  owners      = ["self"]

  filter {
    name   = "name"
    values = ["amzn2-ami-hvm-*"]
  }
}

locals {
  zones = ["ap-east-1a"]
}

# Replaced: every instance of the fleet, one cause.
resource "aws_instance" "fleet" {
  for_each      = toset(["a", "b"])
  ami           = data.aws_ami.al2.id
  instance_type = "t3.micro"

  tags = {
    Name = "fleet-${each.key}"
  }
}

module "pool" {
  source   = "./modules/pool"
  for_each = toset(["x", "y"])
  name     = "pool-${each.key}"
  image_id = data.aws_ami.al2.id
}

# The group follows the template's latest_version and refreshes: apply replaces its instances.
resource "aws_launch_template" "refresh" {
  name          = "h5-refresh"
  image_id      = data.aws_ami.al2.id
  instance_type = "t3.micro"
}

resource "aws_autoscaling_group" "refresh" {
  name                      = "h5-refresh"
  min_size                  = 0
  max_size                  = 4
  desired_capacity          = 2
  availability_zones        = local.zones
  wait_for_capacity_timeout = "0"

  launch_template {
    id      = aws_launch_template.refresh.id
    version = aws_launch_template.refresh.latest_version
  }

  instance_refresh {
    strategy = "Rolling"
  }
}

# "$Latest" and no refresh: only instances launched from now on get the new image.
resource "aws_launch_template" "latest" {
  name          = "h5-latest"
  image_id      = data.aws_ami.al2.id
  instance_type = "t3.micro"
}

resource "aws_autoscaling_group" "latest" {
  name                      = "h5-latest"
  min_size                  = 0
  max_size                  = 4
  desired_capacity          = 2
  availability_zones        = local.zones
  wait_for_capacity_timeout = "0"

  launch_template {
    id      = aws_launch_template.latest.id
    version = "$Latest"
  }
}

# "$Default", and the template keeps its default version: new instances still launch the old one.
resource "aws_launch_template" "default_fixed" {
  name          = "h5-default-fixed"
  image_id      = data.aws_ami.al2.id
  instance_type = "t3.micro"
}

resource "aws_autoscaling_group" "default_fixed" {
  name                      = "h5-default-fixed"
  min_size                  = 0
  max_size                  = 4
  desired_capacity          = 1
  availability_zones        = local.zones
  wait_for_capacity_timeout = "0"

  launch_template {
    id      = aws_launch_template.default_fixed.id
    version = "$Default"
  }
}

# "$Default", and the template moves its default to each new version: new instances get it.
resource "aws_launch_template" "default_moves" {
  name                   = "h5-default-moves"
  image_id               = data.aws_ami.al2.id
  instance_type          = "t3.micro"
  update_default_version = true
}

resource "aws_autoscaling_group" "default_moves" {
  name                      = "h5-default-moves"
  min_size                  = 0
  max_size                  = 4
  desired_capacity          = 1
  availability_zones        = local.zones
  wait_for_capacity_timeout = "0"

  launch_template {
    id      = aws_launch_template.default_moves.id
    version = "$Default"
  }
}

# A launch configuration is replaced (create_before_destroy) with the new image; its group has no
# refresh: nothing with data is destroyed, only new instances get the image.
resource "aws_launch_configuration" "plain" {
  name_prefix   = "h5-plain-"
  image_id      = data.aws_ami.al2.id
  instance_type = "t3.micro"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_autoscaling_group" "plain" {
  name                      = "h5-plain"
  min_size                  = 0
  max_size                  = 4
  desired_capacity          = 1
  availability_zones        = local.zones
  wait_for_capacity_timeout = "0"
  launch_configuration      = aws_launch_configuration.plain.name
}

# The same with an instance refresh: apply replaces the group's instances.
resource "aws_launch_configuration" "rolled" {
  name_prefix   = "h5-rolled-"
  image_id      = data.aws_ami.al2.id
  instance_type = "t3.micro"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_autoscaling_group" "rolled" {
  name                      = "h5-rolled"
  min_size                  = 0
  max_size                  = 4
  desired_capacity          = 3
  availability_zones        = local.zones
  wait_for_capacity_timeout = "0"
  launch_configuration      = aws_launch_configuration.rolled.name

  instance_refresh {
    strategy = "Rolling"
  }
}

# A group module: mixed instances policy, the version chosen by a local conditional.
module "blue" {
  source           = "./modules/asg"
  name             = "h5-blue"
  image_id         = data.aws_ami.al2.id
  zones            = local.zones
  instance_refresh = true
}

module "green" {
  source   = "./modules/asg"
  name     = "h5-green"
  image_id = data.aws_ami.al2.id
  zones    = local.zones
}

module "gray" {
  source           = "./modules/asg"
  name             = "h5-gray"
  image_id         = data.aws_ami.al2.id
  zones            = local.zones
  template_version = "$Default"
  instance_refresh = true
}
