import type { StackRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { fail, isTrue, pass, resultFor } from "../outcomes";
import { ofType } from "../joins";

const AWS_PROVIDER = "pulumi:providers:aws";

export const trailEnabled: StackRule = {
  kind: "stack",
  id: "trail-enabled",
  area: "audit",
  description:
    "The stack declares a logging, multi-region CloudTrail trail " +
    "(or an organization trail), so every API call on the account's resources is recorded.",
  citations: citeInferred(...sections.AUD),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    "Keep openemr:createCloudTrail true (a multi-region trail with logging on). " +
    "Where an organization trail already records the account, set it false and waive " +
    "this rule on the provider with the organization trail's ARN as justification.",
  evaluate(resources) {
    const trails = ofType(resources, AwsType.trail);
    const recording = trails.find(
      (trail) =>
        (isTrue(trail.props.isMultiRegionTrail) || isTrue(trail.props.isOrganizationTrail)) &&
        trail.props.enableLogging !== false,
    );
    if (recording)
      return [
        resultFor(
          recording,
          pass({
            isMultiRegionTrail: recording.props.isMultiRegionTrail ?? false,
            isOrganizationTrail: recording.props.isOrganizationTrail ?? false,
            enableLogging: recording.props.enableLogging ?? true,
          }),
        ),
      ];
    if (trails.length > 0) {
      return trails.map((trail) =>
        resultFor(
          trail,
          fail(
            trail,
            `isMultiRegionTrail is ${JSON.stringify(trail.props.isMultiRegionTrail ?? false)} ` +
              `and enableLogging is ${JSON.stringify(trail.props.enableLogging ?? true)}; ` +
              "expected a logging multi-region (or organization) trail",
            {
              isMultiRegionTrail: trail.props.isMultiRegionTrail ?? false,
              enableLogging: trail.props.enableLogging ?? true,
            },
          ),
        ),
      );
    }
    const subjects = ofType(resources, AWS_PROVIDER);
    const subject = subjects[0] ?? resources[0];
    return subject
      ? [
          resultFor(
            subject,
            fail(
              subject,
              `no ${AwsType.trail} is declared (isMultiRegionTrail); expected a multi-region or organization trail`,
              { trail: null },
            ),
          ),
        ]
      : [];
  },
};
