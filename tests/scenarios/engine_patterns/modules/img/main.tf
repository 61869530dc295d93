data "aws_ami" "app" {
  most_recent = true
  owners      = ["self"]
  filter {
    name   = "name"
    values = ["engine-app-*"]
  }
}

output "app_ami" {
  value = data.aws_ami.app.id
}
