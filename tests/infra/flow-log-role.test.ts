// The VPC flow logs' delivery role, held to the trust and permission policies AWS documents for it:
// a permission the service needs and lacks does not fail `pulumi up`, the flow log just reports
// DeliverLogsStatus FAILED and the network's audit record stays empty.
import { beforeAll, describe, expect, it } from "vitest";
import { runOffline, type OfflineRun } from "../../infra/offline/run";
import { Network } from "../../infra/components/network";
import { named, ofType, policyStatements } from "./helpers";

const REGION = "us-east-1";
const ACCOUNT = "111122223333";
const LOGS_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/logs`;

describe("VPC flow logs' delivery role", () => {
  let run: OfflineRun;
  let groupArn: string;
  beforeAll(async () => {
    run = await runOffline(
      () => {
        new Network("network", { logsKeyArn: LOGS_KEY, logGroupPrefix: "/openemr-aws/clinic", region: REGION });
      },
      { region: REGION, stack: "clinic" },
    );
    groupArn = named(run, "aws:cloudwatch/logGroup:LogGroup", "network-flow-logs").state.arn;
  });

  // https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html
  it("trust: vpc-flow-logs.amazonaws.com for this account's flow logs only (aws:SourceAccount, aws:SourceArn)", () => {
    const trust = policyStatements(named(run, "aws:iam/role:Role", "network-flow-logs").inputs.assumeRolePolicy);
    expect(trust).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "vpc-flow-logs.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: { "aws:SourceAccount": ACCOUNT },
          ArnLike: { "aws:SourceArn": `arn:aws:ec2:${REGION}:${ACCOUNT}:vpc-flow-log/*` },
        },
      },
    ]);
  });

  it("permissions: AWS's example policy, less CreateLogGroup, the writes scoped to the one group", () => {
    const statements = policyStatements(named(run, "aws:iam/policy:Policy", "network-flow-logs").inputs.policy);
    const granted = statements.flatMap((statement: any) => [statement.Action].flat()).sort();
    expect(granted).toEqual([
      "logs:CreateLogStream",
      "logs:DescribeLogGroups",
      "logs:DescribeLogStreams",
      "logs:PutLogEvents",
    ]);
    const writes = statements.find((statement: any) => [statement.Action].flat().includes("logs:PutLogEvents"));
    expect(writes.Resource).toEqual([groupArn, `${groupArn}:*`]);
    // DescribeLogGroups lists groups: it takes no single-group resource.
    const list = statements.find((statement: any) => [statement.Action].flat().includes("logs:DescribeLogGroups"));
    expect(list.Resource).toBe("*");
    expect([list.Action].flat()).toEqual(["logs:DescribeLogGroups"]);
  });

  it("the flow log delivers through that role into the encrypted group", () => {
    const [flowLog] = ofType(run, "aws:ec2/flowLog:FlowLog");
    expect(flowLog.inputs).toMatchObject({
      iamRoleArn: named(run, "aws:iam/role:Role", "network-flow-logs").state.arn,
      logDestination: groupArn,
      logDestinationType: "cloud-watch-logs",
    });
  });
});
