# Values from data sources other than aws_ami, read again at every plan.
data "aws_ami_ids" "al2" {
  owners = ["self"]

  filter {
    name   = "name"
    values = ["amzn2-ami-hvm-*"]
  }
}

# aws_ami_ids lists the newest image first.
resource "aws_instance" "app" {
  ami           = data.aws_ami_ids.al2.ids[0]
  instance_type = "t3.micro"

  tags = {
    Name = "app"
  }
}

# The newest snapshot of the data volume: a new snapshot replaces the volume built from it.
data "aws_ebs_snapshot" "data" {
  most_recent = true
  owners      = ["self"]

  filter {
    name   = "tag:Role"
    values = ["data"]
  }
}

resource "aws_ebs_volume" "data" {
  availability_zone = "eu-west-1a"
  snapshot_id       = data.aws_ebs_snapshot.data.id

  tags = {
    Name = "data"
  }
}
