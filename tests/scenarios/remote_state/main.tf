data "terraform_remote_state" "images" {
  backend = "local"
  config = {
    path = "${path.module}/other/terraform.tfstate"
  }
}

resource "aws_instance" "app" {
  ami           = data.terraform_remote_state.images.outputs.ami_id
  instance_type = "t3.micro"
}
