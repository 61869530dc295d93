# Launch templates under auto scaling groups. A new image or user data in a launch
# template reaches only instances launched later, unless the group refreshes them.
variable "image_id" {
  type = string
}

variable "stable_image_id" {
  type = string
}

variable "user_data" {
  type = string
}

# No instance refresh: the running instance keeps the old image.
resource "aws_launch_template" "web" {
  name          = "web"
  image_id      = var.image_id
  instance_type = "t3.micro"
}

resource "aws_autoscaling_group" "web" {
  name                      = "web"
  min_size                  = 1
  max_size                  = 1
  availability_zones        = ["ap-northeast-1a"]
  wait_for_capacity_timeout = "0"

  launch_template {
    id      = aws_launch_template.web.id
    version = aws_launch_template.web.latest_version
  }
}

# New user data, "$Latest" and no instance refresh: the group does not even change in the plan.
resource "aws_launch_template" "worker" {
  name          = "worker"
  image_id      = var.stable_image_id
  instance_type = "t3.micro"
  user_data     = base64encode(var.user_data)
}

resource "aws_autoscaling_group" "worker" {
  name                      = "worker"
  min_size                  = 1
  max_size                  = 1
  availability_zones        = ["ap-northeast-1a"]
  wait_for_capacity_timeout = "0"

  launch_template {
    id      = aws_launch_template.worker.id
    version = "$Latest"
  }
}

# Harmless: an instance refresh rolls the new image out.
resource "aws_launch_template" "api" {
  name          = "api"
  image_id      = var.image_id
  instance_type = "t3.micro"
}

resource "aws_autoscaling_group" "api" {
  name                      = "api"
  min_size                  = 1
  max_size                  = 1
  availability_zones        = ["ap-northeast-1a"]
  wait_for_capacity_timeout = "0"

  launch_template {
    id      = aws_launch_template.api.id
    version = aws_launch_template.api.latest_version
  }

  instance_refresh {
    strategy = "Rolling"
  }
}
