import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { failProperty, isSet, isTrue, pass } from "../outcomes";
import { isCustomerKey } from "../keys/customer-key";

export const elasticacheTlsAuthEncrypted: ResourceRule = {
  kind: "resource",
  id: "elasticache-tls-auth-encrypted",
  area: "database",
  description:
    "ElastiCache replication groups (the `ha` tier's PHP sessions) require TLS in transit, authenticate clients " +
    "(an AUTH token or RBAC user groups) and are encrypted at rest with a customer managed KMS key.",
  citations: citeInferred(...sections.TLS, "164.312(d)"),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    'Set transitEncryptionEnabled: true with transitEncryptionMode "required", authToken (from a generated ' +
    "secret) or userGroupIds, atRestEncryptionEnabled: true and kmsKeyId to the stack's data key.",
  resourceTypes: [AwsType.elasticacheReplicationGroup],
  evaluate(resource) {
    const props = resource.props;
    if (!isTrue(props.transitEncryptionEnabled))
      return failProperty(resource, "transitEncryptionEnabled", props.transitEncryptionEnabled, "true");
    // "preferred" also admits clients without TLS; unset after enabling means required.
    if (props.transitEncryptionMode !== undefined && props.transitEncryptionMode !== "required")
      return failProperty(resource, "transitEncryptionMode", props.transitEncryptionMode, '"required"');
    const userGroups = Array.isArray(props.userGroupIds) ? props.userGroupIds : [];
    if (!isSet(props.authToken) && userGroups.length === 0)
      return failProperty(resource, "authToken", props.authToken, "an AUTH token, or userGroupIds (RBAC)");
    if (!isTrue(props.atRestEncryptionEnabled))
      return failProperty(resource, "atRestEncryptionEnabled", props.atRestEncryptionEnabled, "true");
    if (!isCustomerKey(props.kmsKeyId))
      return failProperty(resource, "kmsKeyId", props.kmsKeyId, "a customer managed KMS key");
    return pass({
      transitEncryptionEnabled: props.transitEncryptionEnabled,
      transitEncryptionMode: props.transitEncryptionMode ?? "required",
      authentication: isSet(props.authToken) ? "authToken" : "userGroupIds",
      atRestEncryptionEnabled: props.atRestEncryptionEnabled,
      kmsKeyId: props.kmsKeyId,
    });
  },
};
