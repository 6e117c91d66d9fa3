import type { StackRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { fail, failProperty, isTrue, pass, resultFor } from "../outcomes";
import { ofType } from "../joins";

export const ebsEncryptionDefault: StackRule = {
  kind: "stack",
  id: "ebs-encryption-default",
  area: "compute",
  description:
    "The region's EBS encryption-by-default account setting is declared on (aws.ebs.EncryptionByDefault), " +
    "so volumes created outside the stack (snapshots restored by hand, other tools) are encrypted too. " +
    "An account setting the stack does not declare cannot be seen by a policy pack.",
  citations: citeInferred(...sections.ENC),
  severity: "medium",
  enforcement: "advisory",
  remediation:
    "Declare aws.ebs.EncryptionByDefault with enabled: true (and aws.ebs.DefaultKmsKey with the data key), " +
    "or confirm the account setting with `aws ec2 get-ebs-encryption-by-default` and record it as a waiver.",
  evaluate(resources) {
    const settings = ofType(resources, AwsType.encryptionByDefault);
    const disabled = settings.find((setting) => !isTrue(setting.props.enabled ?? true));
    if (disabled) return [resultFor(disabled, failProperty(disabled, "enabled", disabled.props.enabled, "true"))];
    if (settings.length > 0)
      return settings.map((setting) => resultFor(setting, pass({ enabled: setting.props.enabled ?? true })));
    return ofType(resources, AwsType.instance, AwsType.launchTemplate, AwsType.volume).map((subject) =>
      resultFor(
        subject,
        fail(
          subject,
          `no ${AwsType.encryptionByDefault} with enabled true is declared, ` +
            "so the account's EBS encryption default is not known; expected it declared on",
          { "encryptionByDefault.enabled": null },
        ),
      ),
    );
  },
};
