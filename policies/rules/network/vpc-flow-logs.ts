import type { StackRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { fail, pass, resultFor } from "../outcomes";
import { ofType, referencing } from "../joins";

export const vpcFlowLogs: StackRule = {
  kind: "stack",
  id: "vpc-flow-logs",
  area: "network",
  description: "Every VPC has a flow log recording its traffic.",
  citations: cite("164.308(a)(3)(ii)(A)", ...sections.AUD),
  severity: "medium",
  enforcement: "mandatory",
  remediation:
    "Declare an aws.ec2.FlowLog with vpcId set to the VPC " +
    "(trafficType ALL) delivering to an encrypted CloudWatch Logs group.",
  evaluate(resources) {
    return ofType(resources, AwsType.vpc).map((vpc) => {
      const flowLogs = referencing(resources, vpc, "vpcId", AwsType.flowLog);
      if (flowLogs.length === 0) {
        return resultFor(
          vpc,
          fail(vpc, `no ${AwsType.flowLog} has vpcId set to this VPC; expected a flow log`, { "flowLog.vpcId": null }),
        );
      }
      return resultFor(
        vpc,
        pass({
          "flowLog.vpcId": flowLogs.map((flowLog) => flowLog.name),
          "flowLog.trafficType": flowLogs.map((flowLog) => flowLog.props.trafficType),
        }),
      );
    });
  },
};
