# deploy, with the release made in code: the image and the tag are variables a reviewed change sets.
variable "api_image" {
  type = string
}

variable "worker_tag" {
  type = string
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
  image_uri     = var.api_image
}

resource "aws_ecs_task_definition" "worker" {
  family                   = "h5-worker"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  container_definitions = jsonencode([{
    name      = "worker"
    image     = "public.ecr.aws/h5/worker:${var.worker_tag}"
    essential = true
  }])
}
