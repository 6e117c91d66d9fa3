import type { StackRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred } from "../citations";
import { fail, failProperty, isSet, notApplicable, pass, resultFor } from "../outcomes";
import { ofType, resolve } from "../joins";
import { wildcardMatches, statementsOf } from "../documents";
import { policiesOfRole } from "../iam/attachments";

/** The AWS managed policy for SSM-managed instances, and the call an SSM agent must be allowed to make. */
const SSM_CORE_POLICY = /:iam::aws:policy\/AmazonSSMManagedInstanceCore$/;
const SSM_REGISTRATION_ACTION = "ssm:UpdateInstanceInformation";

export const ec2SsmManaged: StackRule = {
  kind: "stack",
  id: "ec2-ssm-managed",
  area: "compute",
  description:
    "Every host's instance role lets SSM manage it (AmazonSSMManagedInstanceCore or a policy allowing " +
    "ssm:UpdateInstanceInformation), so patching and shell access go through SSM, audited, without SSH.",
  citations: citeInferred("164.308(a)(5)(ii)(A)"),
  severity: "medium",
  enforcement: "mandatory",
  remediation:
    "Attach arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore to the host role " +
    "(aws.iam.RolePolicyAttachment) and give the instance that role's profile.",
  evaluate(resources) {
    return ofType(resources, AwsType.instance, AwsType.launchTemplate).map((host) => {
      const profileReference =
        host.type === AwsType.launchTemplate
          ? (host.props.iamInstanceProfile?.name ?? host.props.iamInstanceProfile?.arn)
          : host.props.iamInstanceProfile;
      const profile = resolve(resources, profileReference, AwsType.instanceProfile);
      if (!isSet(profileReference))
        return resultFor(host, notApplicable("has no instance profile (ec2-instance-profile reports it)"));
      if (!profile)
        return resultFor(
          host,
          failProperty(host, "iamInstanceProfile", profileReference, "an instance profile declared in the stack"),
        );
      const role = resolve(resources, profile.props.role, AwsType.role);
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
              "grants no SSM management; expected AmazonSSMManagedInstanceCore",
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
