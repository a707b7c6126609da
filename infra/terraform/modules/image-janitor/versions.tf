terraform {
  required_version = ">= 1.5.0"

  required_providers {
    # 5.31: aws_eks_pod_identity_association. See docs/deployment.md for
    # max_message_size (1 MiB) on releases from before August 2025.
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.31, < 7.0"
    }
  }
}
