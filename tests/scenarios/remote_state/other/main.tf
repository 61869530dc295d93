# Another stack: it publishes the image id the fleet should run, and a secret it must not leak.
variable "ami" {
  type = string
}

output "ami_id" {
  value = var.ami
}

output "token" {
  value     = "remote-state-secret-token"
  sensitive = true
}
