// A second region in the stack: the region of the provider a resource was declared with, and
// whether the stack declares a copy of its data outside its own region (openemr:copyRegion).
import type { RuleResource } from "../types";
import { AwsType } from "../resource-types";
import { asArray } from "../outcomes";
import { ofType } from "../joins";

/** The region of the provider a resource was declared with, when the provider names one. */
export function regionOf(resource: RuleResource): string | undefined {
  const region = resource.provider?.props?.region;
  return typeof region === "string" && region !== "" ? region : undefined;
}

/**
 * True when the stack declares a copy outside its region: AWS providers for more than one
 * region, a bucket replication configuration, or a backup plan rule with a copy action.
 */
export function declaresCopyRegion(resources: RuleResource[]): boolean {
  const regions = new Set(ofType(resources, AwsType.awsProvider).map((provider) => provider.props?.region));
  regions.delete(undefined);
  return (
    regions.size > 1 ||
    ofType(resources, AwsType.bucketReplication).length > 0 ||
    ofType(resources, AwsType.backupPlan).some((plan) =>
      asArray<any>(plan.props.rules).some((rule) => asArray(rule?.copyActions).length > 0),
    )
  );
}
