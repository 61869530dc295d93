# As ami_drift, with the fix the guard suggests: pin the image the instance runs now.
# (moto makes up image ids, so the pinned id comes in as a variable.)
variable "app_ami" {
  type        = string
  description = "The image aws_instance.app runs now."
}

resource "aws_instance" "app" {
  ami           = var.app_ami
  instance_type = "t3.micro"

  tags = {
    Name = "app"
  }
}
