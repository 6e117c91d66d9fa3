import type { RuleResource, StackRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { asArray, fail, notApplicable, pass, resultFor } from "../outcomes";
import { ofType } from "../joins";

/**
 * The CloudTrail event classes the CIS AWS Foundations Benchmark (v1.4.0 4.1-4.14) has a metric
 * filter and alarm watch, each as the terms its filter pattern must hold (compared without
 * spaces or quotes). The patterns: AWS Security Hub controls CloudWatch.1-14,
 * https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html
 */
export const CIS_TRAIL_EVENT_CLASSES: Record<string, string[]> = {
  "unauthorized API calls": ["$.errorCode=*UnauthorizedOperation", "$.errorCode=AccessDenied*"],
  "console sign-in without MFA": ["$.eventName=ConsoleLogin", "$.additionalEventData.MFAUsed!=Yes"],
  "root account use": ["$.userIdentity.type=Root", "$.userIdentity.invokedByNOTEXISTS"],
  "IAM policy changes": [
    ...["DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy"],
    ...["PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion"],
    ...["AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy"],
    "DetachGroupPolicy",
  ].map(event),
  "CloudTrail configuration changes": ["CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"].map(
    event,
  ),
  "KMS key disabled or scheduled for deletion": [
    "$.eventSource=kms.amazonaws.com",
    event("DisableKey"),
    event("ScheduleKeyDeletion"),
  ],
  "S3 bucket policy changes": [
    "$.eventSource=s3.amazonaws.com",
    ...["PutBucketAcl", "PutBucketPolicy", "DeleteBucketPolicy"].map(event),
  ],
  "security group changes": [
    ...["AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress"],
    ...["RevokeSecurityGroupEgress", "CreateSecurityGroup", "DeleteSecurityGroup"],
  ].map(event),
  "network ACL changes": [
    ...["CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry"],
    ...["ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation"],
  ].map(event),
  "network gateway changes": [
    ...["CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway", "CreateInternetGateway"],
    ...["DeleteInternetGateway", "DetachInternetGateway"],
  ].map(event),
  "route table changes": [
    ...["CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation", "DeleteRouteTable"],
    ...["DeleteRoute", "DisassociateRouteTable"],
  ].map(event),
  "VPC changes": [
    ...["CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection", "CreateVpcPeeringConnection"],
    ...["DeleteVpcPeeringConnection", "RejectVpcPeeringConnection"],
  ].map(event),
};

function event(name: string): string {
  return `$.eventName=${name}`;
}

/** True when `term` is in the pattern as a whole term (`CreateRoute` is not `CreateRouteTable`). */
function holds(pattern: string, term: string): boolean {
  const compact = pattern.replace(/[\s"]/g, "");
  const escaped = term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`${escaped}(?![A-Za-z0-9])`).test(compact);
}

/** The alarms (with an action) on the metric a filter publishes. */
function alarmsOn(resources: RuleResource[], filter: RuleResource): RuleResource[] {
  const metric = asArray<any>(filter.props.metricTransformation)[0] ?? {};
  return ofType(resources, AwsType.metricAlarm).filter(
    (alarm) =>
      alarm.props.metricName === metric.name &&
      alarm.props.namespace === metric.namespace &&
      asArray(alarm.props.alarmActions).length > 0,
  );
}

export const cloudtrailMetricAlarms: StackRule = {
  kind: "stack",
  id: "cloudtrail-metric-alarms",
  area: "audit",
  description:
    "Each CloudTrail trail's CloudWatch Logs group has a metric filter and an alarm with an action for each " +
    "event class of the CIS AWS Foundations Benchmark (4.1-4.14): unauthorized API calls, console sign-in " +
    "without MFA, root use, IAM policy, CloudTrail, KMS key, S3 bucket policy, security group, network ACL, " +
    "gateway, route table and VPC changes.",
  // Inferred: AWS's HIPAA conformance pack maps the trail and its CloudWatch delivery, not these alarms.
  citations: citeInferred(...sections.AUD, "164.308(a)(1)(ii)(D)", "164.308(a)(5)(ii)(C)", "164.308(a)(6)(ii)"),
  severity: "medium",
  enforcement: "mandatory",
  remediation:
    "Declare an aws.cloudwatch.LogMetricFilter on the trail's log group with the CIS pattern of each missing " +
    "class (infra/components/detection.ts has them) and an aws.cloudwatch.MetricAlarm on its metric whose " +
    "alarmActions name the alert topic.",
  evaluate(resources) {
    return ofType(resources, AwsType.trail).map((trail) => {
      const groupArn = String(trail.props.cloudWatchLogsGroupArn ?? "").replace(/:\*$/, "");
      const group = ofType(resources, AwsType.logGroup).find((candidate) => candidate.props.arn === groupArn);
      // A trail delivering to no group of this stack: trail-cloudwatch reports a missing one, and
      // another account's group (an organisation's) holds its own filters.
      if (!group)
        return resultFor(
          trail,
          notApplicable("the trail delivers to no CloudWatch Logs group of this stack (see trail-cloudwatch)"),
        );
      const filters = ofType(resources, AwsType.logMetricFilter).filter(
        (filter) => filter.props.logGroupName === group.props.name,
      );
      const watched: Record<string, string[]> = {};
      const missing = Object.entries(CIS_TRAIL_EVENT_CLASSES).flatMap(([eventClass, terms]) => {
        const filter = filters.find((candidate) =>
          terms.every((term) => holds(String(candidate.props.pattern ?? ""), term)),
        );
        const alarms = filter ? alarmsOn(resources, filter) : [];
        if (!filter || alarms.length === 0) return [eventClass];
        watched[eventClass] = [filter.name, ...alarms.map((alarm) => alarm.name)];
        return [];
      });
      if (missing.length > 0)
        return resultFor(
          trail,
          fail(
            trail,
            `its log group ${JSON.stringify(group.props.name)} has no metric filter with an alarm for ` +
              `${missing.join(", ")}; expected one for each CIS event class`,
            { "logMetricFilter.pattern": missing },
          ),
        );
      return resultFor(trail, pass({ "logMetricFilter.logGroupName": group.props.name, ...watched }));
    });
  },
};
