import type { Outcome, ResourceRule, RuleResource } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { all, asArray, failProperty, isSet, isTrue, notApplicable, pass } from "../outcomes";
import { isCustomerKey } from "../keys/customer-key";

/** One block device: encrypted, with a customer key. `path` is where it sits in the resource. */
function deviceOutcome(resource: RuleResource, path: string, device: any): Outcome {
  if (!isTrue(device?.encrypted)) return failProperty(resource, `${path}encrypted`, device?.encrypted, "true");
  if (!isCustomerKey(device?.kmsKeyId))
    return failProperty(resource, `${path}kmsKeyId`, device?.kmsKeyId, "a customer managed KMS key");
  return pass({ [`${path}encrypted`]: device.encrypted, [`${path}kmsKeyId`]: device.kmsKeyId });
}

export const ec2VolumesEncrypted: ResourceRule = {
  kind: "resource",
  id: "ec2-volumes-encrypted",
  area: "compute",
  description:
    "Root and data volumes of hosts (instances, launch templates, " +
    "separate EBS volumes) are encrypted with a customer managed KMS key.",
  citations: citeInferred(...sections.ENC),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    "Set encrypted: true and kmsKeyId to the stack's data key on rootBlockDevice, " +
    "every ebsBlockDevices entry, launch template block devices and aws.ebs.Volume.",
  resourceTypes: [AwsType.instance, AwsType.launchTemplate, AwsType.volume],
  evaluate(resource) {
    const props = resource.props;
    if (resource.type === AwsType.volume) return deviceOutcome(resource, "", props);
    if (resource.type === AwsType.launchTemplate) {
      const mappings = asArray<any>(props.blockDeviceMappings).filter((mapping) => mapping?.ebs);
      if (mappings.length === 0) return notApplicable("declares no EBS block device mappings (the AMI's are used)");
      return all(
        mappings.map((mapping, index) => deviceOutcome(resource, `blockDeviceMappings[${index}].ebs.`, mapping.ebs)),
      );
    }
    const root = props.rootBlockDevice;
    const outcomes = [
      isSet(root)
        ? deviceOutcome(resource, "rootBlockDevice.", root)
        : failProperty(
            resource,
            "rootBlockDevice",
            root,
            "a root block device with encrypted: true and a customer key",
          ),
      ...asArray<any>(props.ebsBlockDevices).map((device, index) =>
        deviceOutcome(resource, `ebsBlockDevices[${index}].`, device),
      ),
    ];
    return all(outcomes);
  },
};
