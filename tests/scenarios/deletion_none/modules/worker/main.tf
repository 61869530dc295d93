resource "aws_ebs_volume" "cache" {
  availability_zone = "ap-southeast-2a"
  size              = 1
}
