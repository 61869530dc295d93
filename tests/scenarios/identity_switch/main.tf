data "aws_region" "current" {}

# Records the region it was made in; a plan in another region replaces it.
resource "terraform_data" "stamp" {
  triggers_replace = [data.aws_region.current.name]
}

resource "aws_ebs_volume" "data" {
  availability_zone = "${data.aws_region.current.name}a"
  size              = 1
}
