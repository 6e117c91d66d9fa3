// Turns an offline run into what a reviewer reads: resources grouped by component, each with
// the properties that decide its security (encryption, exposure, ports, retention), values
// only the cloud knows marked as placeholders; and the capture as JSON with secrets redacted.
import { PLACEHOLDER_DESCRIPTIONS, PLACEHOLDERS } from "../offline/mocks";
import type { OfflineRun, PlannedResource } from "../offline/run";

export const REDACTED = "[secret]";

// Outputs the providers mark secret; the mocks compute them in the clear.
const secretOutputs: Record<string, string[]> = {
  "random:index/randomPassword:RandomPassword": ["result", "bcryptHash"],
  "tls:index/privateKey:PrivateKey": ["privateKeyPem", "privateKeyOpenssh", "privateKeyPemPkcs8"],
};

function setPath(target: Record<string, any>, path: string, value: unknown): void {
  const parts = path.match(/[^.[\]]+/g) ?? [];
  let node: any = target;
  for (const part of parts.slice(0, -1)) {
    if (node?.[part] === undefined) return;
    node = node[part];
  }
  const last = parts[parts.length - 1];
  if (node && last !== undefined && last in node) node[last] = value;
}

/** A copy of the run whose secret-marked values (inputs and state) read `[secret]`. */
export function redactRun(run: OfflineRun): OfflineRun {
  const copy: OfflineRun = JSON.parse(JSON.stringify(run));
  for (const resource of copy.resources) {
    for (const path of [...resource.secretPaths, ...(secretOutputs[resource.type] ?? [])]) {
      setPath(resource.inputs, path, REDACTED);
      setPath(resource.state, path, REDACTED);
    }
  }
  return copy;
}

/** Names a reviewer recognises for the ids and ARNs the mocks made up. */
function referenceNames(run: OfflineRun): Map<string, string> {
  const names = new Map<string, string>();
  for (const resource of run.resources.filter((item) => item.custom)) {
    for (const key of ["arn", "id", "keyId"]) {
      const value = resource.state[key];
      // First wins: a bucket is declared before the resources whose id repeats its name.
      if (typeof value === "string" && value.length > 6 && !names.has(value)) names.set(value, `<${resource.name}>`);
    }
  }
  return names;
}

/** Computed outputs that only AWS assigns (ids, host names, addresses): the mocks make them up. */
const assignedKeys = [
  "id",
  "keyId",
  "dnsName",
  "address",
  "endpoint",
  "privateDns",
  "privateIp",
  "resourceId",
  "primaryNetworkInterfaceId",
  "defaultSecurityGroupId",
  "mainRouteTableId",
  "defaultNetworkAclId",
  "prefixListId",
];
/** An id AWS assigns: a prefix and hex digits (`i-0123…`, `sg-…`, `vpce-…`); not an auto-name such as `app-1a2b3c4`. */
const AWS_ID = /^[a-z]+-[0-9a-f]{8,}$/;

/** The region a run was planned in: its default AWS provider's. */
function regionOf(run: OfflineRun): string {
  const provider = run.resources.find((resource) => resource.type === "pulumi:providers:aws");
  return typeof provider?.inputs.region === "string" ? provider.inputs.region : "us-east-1";
}

/**
 * Every value of the run that the offline mocks made up, with what it stands for: the account
 * ids, AMI and zones (PLACEHOLDERS) and the ids, host names and addresses AWS assigns at deploy
 * time. A string of the run that is, or contains, one of these keys holds a placeholder, not a
 * real value (the account id inside an ARN, say). The plan's JSON carries it as `placeholders`.
 */
export function placeholderValues(run: OfflineRun, region = regionOf(run)): Record<string, string> {
  const text = JSON.stringify(run);
  const values: Record<string, string> = {};
  const add = (value: string, description: string) => {
    if (!(value in values) && text.includes(value)) values[value] = description;
  };
  for (const [value, description] of Object.entries(PLACEHOLDER_DESCRIPTIONS)) add(value, description);
  for (const suffix of PLACEHOLDERS.availabilityZoneSuffixes)
    add(`${region}${suffix}`, "availability zone (chosen at deploy time)");
  for (const resource of run.resources.filter((item) => item.custom && !item.type.startsWith("pulumi:providers:"))) {
    for (const key of assignedKeys) {
      const value = resource.state[key];
      if (typeof value !== "string" || value === resource.inputs[key] || value === REDACTED) continue;
      if (key === "id" && !AWS_ID.test(value)) continue;
      add(value, `${key} of ${resource.name} (${resource.type}), assigned at deploy time`);
    }
  }
  return values;
}

/** ` [placeholder: what it stands for]` when a value is or contains placeholders; else nothing. */
function placeholderNote(value: string, placeholders: Record<string, string>): string {
  const found = Object.keys(placeholders).filter((placeholder) =>
    // A zone only as a whole value: `us-east-1a` is also the start of other words.
    placeholders[placeholder].startsWith("availability zone") ? value === placeholder : value.includes(placeholder),
  );
  // The most specific: an endpoint rather than the address it contains.
  const notes = found
    .filter((placeholder) => !found.some((other) => other !== placeholder && other.includes(placeholder)))
    .map((placeholder) => placeholders[placeholder]);
  return notes.length ? ` [placeholder: ${[...new Set(notes)].join("; ")}]` : "";
}

type Show = (value: unknown) => string;
type Describe = (inputs: Record<string, any>, show: Show) => string[];

const yesNo = (value: unknown) => (value ? "yes" : "no");
/** An RDS parameter or option setting as `name=value`. */
const nameEqualsValue = (setting: { name: string; value: string }) => `${setting.name}=${setting.value}`;

function statements(policy: unknown): any[] {
  const document = typeof policy === "string" ? JSON.parse(policy) : policy;
  return ([] as any[]).concat(document?.Statement ?? []);
}

function principals(statement: any, show: Show): string {
  const principal = statement.Principal ?? {};
  return ([] as string[])
    .concat(principal.Service ?? [], principal.AWS ?? [])
    .map(show)
    .join(", ");
}

function ruleText(inputs: Record<string, any>, show: Show, direction: "from" | "to"): string {
  const peer =
    inputs.cidrIpv4 ??
    inputs.cidrIpv6 ??
    (inputs.referencedSecurityGroupId ? show(inputs.referencedSecurityGroupId) : inputs.prefixListId);
  const ports = inputs.fromPort === inputs.toPort ? `${inputs.fromPort}` : `${inputs.fromPort}-${inputs.toPort}`;
  return `${show(inputs.securityGroupId)}: ${inputs.ipProtocol} ${ports} ${direction} ${peer}`;
}

const describers: Record<string, Describe> = {
  "aws:kms/key:Key": (inputs, show) => [
    `rotation: ${yesNo(inputs.enableKeyRotation)}, deletion window: ${inputs.deletionWindowInDays} days`,
    `policy principals: ${statements(inputs.policy)
      .map((statement) => `${statement.Sid} (${principals(statement, show)})`)
      .join("; ")}`,
  ],
  "aws:ec2/vpc:Vpc": (inputs) => [`cidr: ${inputs.cidrBlock}`],
  "aws:ec2/subnet:Subnet": (inputs, show) => [
    `cidr: ${inputs.cidrBlock}, zone: ${show(inputs.availabilityZone)}, ` +
      `public IP on launch: ${yesNo(inputs.mapPublicIpOnLaunch)}`,
  ],
  "aws:ec2/route:Route": (inputs, show) => [
    `${show(inputs.routeTableId)}: ${inputs.destinationCidrBlock} -> ${show(inputs.gatewayId ?? inputs.natGatewayId)}`,
  ],
  "aws:ec2/vpcEndpoint:VpcEndpoint": (inputs) => [
    `${inputs.vpcEndpointType}: ${inputs.serviceName}${inputs.privateDnsEnabled ? ", private DNS" : ""}`,
  ],
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": (inputs) => [
    `ingress rules: ${(inputs.ingress ?? []).length}, egress rules: ${(inputs.egress ?? []).length}`,
  ],
  "aws:ec2/securityGroup:SecurityGroup": (inputs) => [
    `${inputs.description}; inline rules: ${(inputs.ingress ?? []).length + (inputs.egress ?? []).length}`,
  ],
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (inputs, show) => [
    `ingress ${ruleText(inputs, show, "from")}`,
  ],
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (inputs, show) => [
    `egress ${ruleText(inputs, show, "to")}`,
  ],
  "aws:ec2/flowLog:FlowLog": (inputs, show) => [`traffic: ${inputs.trafficType} -> ${show(inputs.logDestination)}`],
  "aws:cloudwatch/logGroup:LogGroup": (inputs, show) => [
    `${inputs.name}: key ${show(inputs.kmsKeyId)}, retention ${inputs.retentionInDays} days`,
  ],
  "aws:iam/role:Role": (inputs, show) => [
    `trusted: ${statements(inputs.assumeRolePolicy)
      .map((statement) => principals(statement, show))
      .join(", ")}`,
  ],
  "aws:iam/policy:Policy": (inputs, show) =>
    statements(inputs.policy).map((statement) => {
      const actions = ([] as string[]).concat(statement.Action).join(",");
      const resources = ([] as unknown[]).concat(statement.Resource).map(show).join(", ");
      return `${statement.Effect} ${actions} on ${resources}${statement.Condition ? " (conditioned)" : ""}`;
    }),
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (inputs, show) => [
    `${show(inputs.role)} <- ${show(inputs.policyArn)}`,
  ],
  "aws:rds/instance:Instance": (inputs, show) => [
    `${inputs.engine} ${inputs.engineVersion} on ${inputs.instanceClass}, ` +
      `${inputs.storageType} ${inputs.allocatedStorage}-${inputs.maxAllocatedStorage} GB`,
    `storage encrypted: ${yesNo(inputs.storageEncrypted)} (key ${show(inputs.kmsKeyId)}), ` +
      `public: ${yesNo(inputs.publiclyAccessible)}, Multi-AZ: ${yesNo(inputs.multiAz)}`,
    `deletion protection: ${yesNo(inputs.deletionProtection)}, ` +
      `backups kept ${inputs.backupRetentionPeriod} days, ` +
      `final snapshot: ${inputs.skipFinalSnapshot ? "no" : inputs.finalSnapshotIdentifier}`,
    `logs exported: ${(inputs.enabledCloudwatchLogsExports ?? []).join(", ")}; ` +
      `enhanced monitoring every ${inputs.monitoringInterval}s; ` +
      `Performance Insights key ${show(inputs.performanceInsightsKmsKeyId)}`,
    `master password managed by RDS (key ${show(inputs.masterUserSecretKmsKeyId)}); CA ${inputs.caCertIdentifier}`,
  ],
  "aws:rds/parameterGroup:ParameterGroup": (inputs) => [
    `${inputs.family}: ${(inputs.parameters ?? []).map(nameEqualsValue).join(", ")}`,
  ],
  "aws:rds/optionGroup:OptionGroup": (inputs) => [
    `options: ${(inputs.options ?? [])
      .map((option: any) => `${option.optionName}(${(option.optionSettings ?? []).map(nameEqualsValue).join(" ")})`)
      .join(", ")}`,
  ],
  "aws:ec2/instance:Instance": (inputs, show) => [
    `${inputs.instanceType}, AMI ${show(inputs.ami)}, subnet ${show(inputs.subnetId)}, ` +
      `public IP: ${yesNo(inputs.associatePublicIpAddress)}, key pair: ${inputs.keyName ?? "none"}`,
    `IMDS tokens: ${inputs.metadataOptions?.httpTokens}, ` +
      `hop limit ${inputs.metadataOptions?.httpPutResponseHopLimit}; ` +
      `detailed monitoring: ${yesNo(inputs.monitoring)}; EBS-optimized: ${yesNo(inputs.ebsOptimized)}`,
    `root: ${inputs.rootBlockDevice?.volumeType} ${inputs.rootBlockDevice?.volumeSize} GB, ` +
      `encrypted: ${yesNo(inputs.rootBlockDevice?.encrypted)} (key ${show(inputs.rootBlockDevice?.kmsKeyId)})`,
    `user-data: ${Buffer.byteLength(inputs.userData ?? "")} bytes`,
  ],
  "aws:ebs/volume:Volume": (inputs, show) => [
    `${inputs.type} ${inputs.size} GB in ${show(inputs.availabilityZone)}, ` +
      `encrypted: ${yesNo(inputs.encrypted)} (key ${show(inputs.kmsKeyId)})`,
  ],
  "aws:secretsmanager/secret:Secret": (inputs, show) => [`${inputs.name}: key ${show(inputs.kmsKeyId)}`],
  "aws:secretsmanager/secretVersion:SecretVersion": () => [`value: ${REDACTED}`],
  "aws:s3/bucketObjectv2:BucketObjectv2": (inputs, show) => [
    `${inputs.key}: ${inputs.serverSideEncryption} (key ${show(inputs.kmsKeyId)})`,
  ],
  "aws:ssm/document:Document": (inputs) => [`${inputs.documentType} document ${inputs.name}`],
};

// For types without a describer: the input keys that carry a security decision.
const notableKeys = [
  "kmsKeyId",
  "kmsKeyArn",
  "kmsMasterKeyId",
  "retentionInDays",
  "enableLogFileValidation",
  "isMultiRegionTrail",
  "deletionProtection",
  "enableDeletionProtection",
  "dropInvalidHeaderFields",
  "internal",
  "sslPolicy",
  "protocol",
  "port",
  "blockPublicAcls",
  "blockPublicPolicy",
  "ignorePublicAcls",
  "restrictPublicBuckets",
  "objectLockEnabled",
  "healthCheck",
  "endpoint",
  "alarmActions",
  "treatMissingData",
  "scope",
];

function describe(resource: PlannedResource, show: Show): string[] {
  const describer = describers[resource.type];
  if (describer) return describer(resource.inputs, show);
  const notable = notableKeys.filter((key) => resource.inputs[key] !== undefined);
  return notable.length ? [notable.map((key) => `${key}: ${show(resource.inputs[key])}`).join(", ")] : [];
}

/** The human plan of one run. */
export function formatRun(run: OfflineRun, region: string): string {
  const names = referenceNames(run);
  const placeholders = placeholderValues(run, region);
  const show = (value: unknown): string => {
    if (typeof value === "string") return names.get(value) ?? value + placeholderNote(value, placeholders);
    if (Array.isArray(value)) return `[${value.map(show).join(", ")}]`;
    if (value && typeof value === "object") return JSON.stringify(value);
    return String(value);
  };
  const components = new Map(
    run.resources.filter((resource) => !resource.custom).map((resource) => [resource.urn, resource]),
  );
  const groups = new Map<string, PlannedResource[]>();
  for (const resource of run.resources.filter((item) => item.custom && !item.type.startsWith("pulumi:providers:"))) {
    const component = resource.parent ? components.get(resource.parent) : undefined;
    const heading =
      component && component.type !== "pulumi:pulumi:Stack" ? `${component.name} (${component.type})` : "stack";
    groups.set(heading, [...(groups.get(heading) ?? []), resource]);
  }
  const lines = [`Stack ${run.stack}: ${run.resources.filter((resource) => resource.custom).length} resources`];
  for (const [heading, resources] of groups) {
    lines.push("", `${heading}: ${resources.length}`);
    for (const resource of resources) {
      const flags = [resource.retainOnDelete ? "retained on destroy" : "", resource.protect ? "protected" : ""].filter(
        Boolean,
      );
      const type = resource.type.split(":").slice(1).join(":");
      lines.push(`  ${type} ${resource.name}${flags.length ? ` (${flags.join(", ")})` : ""}`);
      for (const line of describe(resource, show)) lines.push(`      ${line}`);
    }
  }
  lines.push("", "Outputs:");
  for (const [key, value] of Object.entries(run.outputs))
    lines.push(`  ${key}: ${value}${typeof value === "string" ? placeholderNote(value, placeholders) : ""}`);
  return lines.join("\n");
}
