// Joining resources in stack rules. A resource refers to another by a value the other one
// has (its id, ARN or name): the capture and the engine give stack rules each resource's
// state, so a bucket's versioning resource holds the bucket's id in `bucket`, a flow log the
// VPC's id in `vpcId`.
import type { RuleResource } from "./types";
import { asArray } from "./outcomes";

export function ofType(resources: RuleResource[], ...types: string[]): RuleResource[] {
  return resources.filter((resource) => types.includes(resource.type));
}

/** The values other resources may use to refer to this one. */
export function identities(resource: RuleResource): string[] {
  const { id, arn, name, bucket, identifier } = resource.props ?? {};
  return [id, arn, name, bucket, identifier].filter(
    (value): value is string => typeof value === "string" && value !== "",
  );
}

/** True when `reference` (one value or a list) names `target`. */
export function refersTo(reference: unknown, target: RuleResource): boolean {
  const ids = identities(target);
  return asArray(reference).some((value) => typeof value === "string" && ids.includes(value));
}

/** The resources of `types` whose property `property` refers to `target`. */
export function referencing(
  resources: RuleResource[],
  target: RuleResource,
  property: string,
  ...types: string[]
): RuleResource[] {
  return ofType(resources, ...types).filter((resource) => refersTo(resource.props?.[property], target));
}

/** The first resource of `types` that `reference` names. */
export function resolve(resources: RuleResource[], reference: unknown, ...types: string[]): RuleResource | undefined {
  return ofType(resources, ...types).find((resource) => refersTo(reference, resource));
}
