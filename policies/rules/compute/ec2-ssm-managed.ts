import type { StackRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred } from "../citations";
import { fail, failProperty, isSet, notApplicable, pass, resultFor } from "../outcomes";
import { ofType } from "../joins";
import { wildcardMatches, statementsOf } from "../documents";
import { hostRole, policiesOfRole } from "../iam/attachments";

/** The AWS managed policy for SSM-managed instances, and the call an SSM agent must be allowed to make. */
const SSM_CORE_POLICY = /:iam::aws:policy\/AmazonSSMManagedInstanceCore$/;
const SSM_REGISTRATION_ACTION = "ssm:UpdateInstanceInformation";

export const ec2SsmManaged: StackRule = {
  kind: "stack",
  id: "ec2-ssm-managed",
  area: "compute",
  description:
    "Every host's instance role lets SSM manage it (a policy allowing ssm:UpdateInstanceInformation, or " +
    "AmazonSSMManagedInstanceCore), so patching and shell access go through SSM, audited, without SSH.",
  citations: citeInferred("164.308(a)(5)(ii)(A)"),
  severity: "medium",
  enforcement: "mandatory",
  remediation:
    "Attach to the host role a policy of the stack's allowing ssm:UpdateInstanceInformation and the " +
    "ssmmessages/ec2messages channel actions (as infra/components/host.ts does), and give the instance " +
    "that role's profile.",
  evaluate(resources) {
    return ofType(resources, AwsType.instance, AwsType.launchTemplate).map((host) => {
      const { profileReference, profile, role } = hostRole(resources, host);
      if (!isSet(profileReference))
        return resultFor(host, notApplicable("has no instance profile (ec2-instance-profile reports it)"));
      if (!profile)
        return resultFor(
          host,
          failProperty(host, "iamInstanceProfile", profileReference, "an instance profile declared in the stack"),
        );
      if (!role)
        return resultFor(
          host,
          fail(
            profile,
            `role is ${JSON.stringify(profile.props.role ?? null)}, ` +
              "not a role declared in the stack; expected the host role",
            { role: profile.props.role ?? null },
          ),
        );
      const grants = policiesOfRole(resources, role);
      const grant = grants.find(
        (candidate) =>
          (candidate.arn !== undefined && SSM_CORE_POLICY.test(candidate.arn)) ||
          statementsOf(candidate.document).some(
            (statement) =>
              statement.effect === "Allow" &&
              statement.actions.some((action) => wildcardMatches(action, SSM_REGISTRATION_ACTION)),
          ),
      );
      if (!grant) {
        return resultFor(
          host,
          fail(
            role,
            "policyArn of its attachments " +
              `(${grants.map((candidate) => candidate.arn ?? candidate.source).join(", ") || "none"}) ` +
              "grants no SSM management; expected a policy allowing ssm:UpdateInstanceInformation",
            { attachedPolicies: grants.map((candidate) => candidate.arn ?? candidate.source) },
          ),
        );
      }
      return resultFor(
        host,
        pass({ iamInstanceProfile: profile.name, "profile.role": role.name, ssmGrant: grant.arn ?? grant.source }),
      );
    });
  },
};
