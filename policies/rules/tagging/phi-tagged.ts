import type { RuleResource, StackRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred } from "../citations";
import { failProperty, pass, resultFor } from "../outcomes";

/**
 * Resource types that accept tags, among those this stack declares or the rules read. A
 * resource of another type is also checked when it declares `tags` itself.
 */
const TAGGABLE_TYPES = new Set<string>([
  AwsType.vpc,
  AwsType.subnet,
  AwsType.securityGroup,
  AwsType.defaultSecurityGroup,
  AwsType.ingressRule,
  AwsType.egressRule,
  AwsType.routeTable,
  AwsType.defaultRouteTable,
  AwsType.internetGateway,
  AwsType.natGateway,
  AwsType.eip,
  AwsType.flowLog,
  AwsType.instance,
  AwsType.launchTemplate,
  AwsType.autoscalingGroup,
  AwsType.keyPair,
  AwsType.volume,
  AwsType.instanceProfile,
  AwsType.role,
  AwsType.policy,
  AwsType.rdsInstance,
  AwsType.rdsParameterGroup,
  AwsType.backupPlan,
  AwsType.backupVault,
  AwsType.bucket,
  AwsType.bucketV2,
  AwsType.kmsKey,
  AwsType.logGroup,
  AwsType.metricAlarm,
  AwsType.snsTopic,
  AwsType.secret,
  AwsType.trail,
  AwsType.loadBalancer,
  AwsType.albLoadBalancer,
  AwsType.listener,
  AwsType.albListener,
  AwsType.webAcl,
  "aws:ec2/vpcEndpoint:VpcEndpoint",
  "aws:rds/subnetGroup:SubnetGroup",
  "aws:rds/optionGroup:OptionGroup",
  "aws:lb/targetGroup:TargetGroup",
  "aws:alb/targetGroup:TargetGroup",
  "aws:ssm/document:Document",
  "aws:acm/certificate:Certificate",
  "aws:cloudwatch/eventRule:EventRule",
  "aws:lambda/function:Function",
]);

/** The provider's default tags; the AWS provider carries its object inputs as JSON text. */
function providerDefaultTags(resource: RuleResource): Record<string, string> {
  let defaultTags = resource.provider?.props.defaultTags;
  if (typeof defaultTags === "string") {
    try {
      defaultTags = JSON.parse(defaultTags);
    } catch {
      defaultTags = undefined;
    }
  }
  return defaultTags?.tags ?? {};
}

export const phiTagged: StackRule = {
  kind: "stack",
  id: "phi-tagged",
  area: "tagging",
  description:
    "Every taggable resource carries the data-classification tag (setting dataClassificationTag), directly or " +
    "through its provider's defaultTags, so PHI-bearing resources can be found, billed and reviewed as such.",
  citations: citeInferred("164.308(a)(1)(ii)(A)"),
  severity: "low",
  enforcement: "mandatory",
  remediation:
    "Set the tag in the AWS provider's defaultTags (one place for the whole stack), " +
    "and do not override it with a different value on a resource.",
  evaluate(resources, { settings }) {
    const { key, value } = settings.dataClassificationTag;
    return resources
      .filter(
        (resource) =>
          TAGGABLE_TYPES.has(resource.type) || (resource.type.startsWith("aws:") && resource.props.tags !== undefined),
      )
      .map((resource) => {
        const inherited = providerDefaultTags(resource)[key];
        const own = resource.props.tags?.[key];
        const effective = own ?? inherited;
        if (effective !== value) {
          const path = own !== undefined ? `tags.${key}` : `tags.${key} (with provider defaultTags)`;
          return resultFor(resource, failProperty(resource, path, effective, JSON.stringify(value)));
        }
        return resultFor(
          resource,
          pass({ [own !== undefined ? `tags.${key}` : `provider.defaultTags.tags.${key}`]: effective }),
        );
      });
  },
};
