// One client of each AWS service per run, all in the stack's region. The SDK's standard
// retry mode already backs off on throttling; a few more attempts than its default ride out
// the bursts a concurrent health run causes.
import { ACMClient } from "@aws-sdk/client-acm";
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { EC2Client } from "@aws-sdk/client-ec2";
import { RDSClient } from "@aws-sdk/client-rds";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ServiceQuotasClient } from "@aws-sdk/client-service-quotas";
import { SSMClient } from "@aws-sdk/client-ssm";
import { STSClient } from "@aws-sdk/client-sts";

export interface AwsClients {
  acm: ACMClient;
  autoScaling: AutoScalingClient;
  cloudwatch: CloudWatchClient;
  logs: CloudWatchLogsClient;
  ec2: EC2Client;
  rds: RDSClient;
  s3: S3Client;
  secrets: SecretsManagerClient;
  quotas: ServiceQuotasClient;
  ssm: SSMClient;
  sts: STSClient;
}

export function awsClients(region: string): AwsClients {
  const config = { region, maxAttempts: 6 };
  const made = new Map<string, unknown>();
  const lazy = <T>(name: string, make: () => T): T => {
    if (!made.has(name)) made.set(name, make());
    return made.get(name) as T;
  };
  return {
    get acm() {
      return lazy("acm", () => new ACMClient(config));
    },
    get autoScaling() {
      return lazy("autoScaling", () => new AutoScalingClient(config));
    },
    get cloudwatch() {
      return lazy("cloudwatch", () => new CloudWatchClient(config));
    },
    get logs() {
      return lazy("logs", () => new CloudWatchLogsClient(config));
    },
    get ec2() {
      return lazy("ec2", () => new EC2Client(config));
    },
    get rds() {
      return lazy("rds", () => new RDSClient(config));
    },
    get s3() {
      return lazy("s3", () => new S3Client(config));
    },
    get secrets() {
      return lazy("secrets", () => new SecretsManagerClient(config));
    },
    get quotas() {
      return lazy("quotas", () => new ServiceQuotasClient(config));
    },
    get ssm() {
      return lazy("ssm", () => new SSMClient(config));
    },
    get sts() {
      return lazy("sts", () => new STSClient(config));
    },
  };
}
