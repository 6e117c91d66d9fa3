import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred } from "../citations";
import { fail, notApplicable, pass } from "../outcomes";

/** Services whose endpoints take no endpoint policy (AWS PrivateLink's list): nothing to check. */
const NO_POLICY_SERVICES = ["ssmmessages", "ec2messages"];
const ACCOUNT_KEYS = ["aws:PrincipalAccount", "aws:ResourceAccount"];

function statements(policy: unknown): any[] {
  const document = typeof policy === "string" ? JSON.parse(policy) : policy;
  return ([] as any[]).concat(document?.Statement ?? []);
}

/** Read-only actions on named resources: what an AWS-owned public package bucket needs, and no more. */
function readsNamedResources(statement: any): boolean {
  const actions = ([] as unknown[]).concat(statement.Action ?? []).map(String);
  const resources = ([] as unknown[]).concat(statement.Resource ?? []).map(String);
  return (
    actions.length > 0 &&
    actions.every((action) => /^[a-z0-9-]+:(Get|List|Describe)[A-Za-z]*$/.test(action)) &&
    resources.length > 0 &&
    resources.every((resource) => resource !== "*" && !resource.endsWith(":::*"))
  );
}

/** The account-pinning condition keys of a statement (`StringEquals` on aws:PrincipalAccount, ...). */
function accountKeys(statement: any): string[] {
  return Object.values(statement.Condition ?? {}).flatMap((operands: any) =>
    Object.keys(operands ?? {}).filter((key) => ACCOUNT_KEYS.includes(key)),
  );
}

export const vpcEndpointPolicies: ResourceRule = {
  kind: "resource",
  id: "vpc-endpoint-policies",
  area: "network",
  description:
    "VPC endpoints carry an endpoint policy whose every Allow is held to this account " +
    "(aws:PrincipalAccount or aws:ResourceAccount) or only reads named resources (AWS's public agent " +
    "packages), so the network path serves no other account's credentials or resources.",
  citations: citeInferred("164.312(a)(1)", "164.312(e)(1)"),
  severity: "medium",
  enforcement: "mandatory",
  remediation:
    "Give the endpoint a policy whose Allow statements carry a StringEquals condition on aws:PrincipalAccount " +
    "(and aws:ResourceAccount where the calls name resources) set to the account id.",
  resourceTypes: [AwsType.vpcEndpoint],
  evaluate(resource) {
    const service = String(resource.props.serviceName ?? "")
      .split(".")
      .pop();
    if (service && NO_POLICY_SERVICES.includes(service))
      return notApplicable(`serves ${service}, which takes no endpoint policy`);
    if (!resource.props.policy)
      return fail(resource, "policy is not set; expected a policy held to this account (the default allows all)", {
        policy: null,
      });
    const open = statements(resource.props.policy).filter(
      (statement) =>
        statement.Effect === "Allow" && accountKeys(statement).length === 0 && !readsNamedResources(statement),
    );
    if (open.length)
      return fail(
        resource,
        `policy statement ${open[0].Sid ?? "(no Sid)"} allows ${JSON.stringify(open[0].Action)} ` +
          `with no condition on ${ACCOUNT_KEYS.join(" or ")}; expected every Allow held to this account, ` +
          "or reading named resources only",
        { policy: resource.props.policy },
      );
    return pass({
      policy: statements(resource.props.policy).map(
        (statement) => `${statement.Sid}: ${accountKeys(statement).join(", ")}`,
      ),
    });
  },
};
