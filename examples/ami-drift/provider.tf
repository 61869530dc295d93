# Written by tests/realtf.py for a local moto server (a fake AWS): fake credentials,
# and AWS_ENDPOINT_URL=http://127.0.0.1:PORT in the environment points every service at moto.
provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}
