# Deploys nobody reviewed: the function runs the newest image pushed to its repository, and the
# task runs the image tag a parameter holds. A push or a parameter write changes the next plan.
data "aws_ecr_image" "api" {
  repository_name = "h5-api"
  most_recent     = true
}

resource "aws_iam_role" "fn" {
  name = "h5-deploy-fn"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_lambda_function" "api" {
  function_name = "h5-api"
  role          = aws_iam_role.fn.arn
  package_type  = "Image"
  image_uri     = data.aws_ecr_image.api.image_uri
}

data "aws_ssm_parameter" "worker_tag" {
  name = "/h5/worker/tag"
}

resource "aws_ecs_task_definition" "worker" {
  family                   = "h5-worker"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  container_definitions = jsonencode([{
    name      = "worker"
    image     = "public.ecr.aws/h5/worker:${data.aws_ssm_parameter.worker_tag.insecure_value}"
    essential = true
  }])
}
