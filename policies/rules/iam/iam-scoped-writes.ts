import type { ResourceRule } from "../types";
import { citeInferred, sections } from "../citations";
import { wildcardMatches } from "../documents";
import { checkAllowStatements, identityPolicyTypes } from "./identity-documents";

/** Verbs that change state (the IAM "Write", "Permissions management" and "Tagging" access levels). */
const WRITE_VERBS = new RegExp(
  "^(" +
    "Put|Create|Delete|Update|Modify|Attach|Detach|Set|Add|Remove|Tag|Untag|Start|Stop|Reboot|Terminate|" +
    "Run|Send|Write|Upload|Restore|Copy|Import|Replicate|Enable|Disable|Associate|Disassociate|Revoke|" +
    "Authorize|Rotate|Invoke|Pass|Schedule|Cancel|Reset|Register|Deregister|Change|Replace|Publish" +
    ")",
);

/**
 * Actions AWS does not let a policy scope to a resource (Service Authorization Reference:
 * no resource types), so "*" is the only valid Resource for them.
 */
const UNSCOPABLE_ACTIONS = [
  "cloudwatch:PutMetricData",
  "ssm:UpdateInstanceInformation",
  "ssmmessages:CreateControlChannel",
  "ssmmessages:CreateDataChannel",
  "ssmmessages:OpenControlChannel",
  "ssmmessages:OpenDataChannel",
  "ec2messages:*",
  "xray:PutTraceSegments",
  "xray:PutTelemetryRecords",
];

function isScopableWrite(action: string): boolean {
  const [service, verb] = action.split(":");
  if (!service || !verb || verb === "*") return false;
  if (UNSCOPABLE_ACTIONS.some((pattern) => wildcardMatches(pattern, action))) return false;
  return WRITE_VERBS.test(verb);
}

export const iamScopedWrites: ResourceRule = {
  kind: "resource",
  id: "iam-scoped-writes",
  area: "iam",
  description:
    'Write actions name the resources they change: no Allow of a write action on Resource "*" (actions AWS cannot ' +
    "scope, such as cloudwatch:PutMetricData, excepted; whole-service and full wildcards have their own rules).",
  citations: citeInferred(...sections.IAM),
  severity: "medium",
  enforcement: "mandatory",
  remediation: "Set Resource to the ARNs (or ARN patterns under the stack's prefix) the action must change.",
  resourceTypes: identityPolicyTypes,
  evaluate: (resource) =>
    checkAllowStatements(resource, (statement) => {
      if (!statement.resources.includes("*")) return undefined;
      const action = statement.actions.find(isScopableWrite);
      return action
        ? { property: "Resource", value: "*", expected: `resource ARNs for the write action ${action}` }
        : undefined;
    }),
};
