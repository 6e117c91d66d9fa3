// Computed outputs for resources and invokes when the program runs without a cloud.
// Values the cloud alone knows (account, AMI, zones) are fixed, recognisable placeholders,
// listed in PLACEHOLDERS so the plan can mark them.
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";

export const PLACEHOLDERS = {
  accountId: "111122223333",
  amiId: "ami-0123456789abcdef0",
  elbAccountId: "999988887777",
  amiName: "debian-13-amd64-20261101-0000",
  availabilityZoneSuffixes: ["a", "b", "c"],
  partition: "aws",
} as const;

/** Human descriptions of the placeholder values, for reports. */
export const PLACEHOLDER_DESCRIPTIONS: Record<string, string> = {
  [PLACEHOLDERS.accountId]: "AWS account id (known only at deploy time)",
  [PLACEHOLDERS.amiId]: "Debian 13 AMI id (looked up at deploy time)",
  [PLACEHOLDERS.amiName]: "Debian 13 AMI name (looked up at deploy time)",
  [PLACEHOLDERS.elbAccountId]: "the region's ELB log-delivery account (looked up at deploy time)",
};

function shortHash(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** ARN service and resource path for the resource types whose ARN has a fixed shape. */
function arnFor(type: string, name: string, physicalName: string, region: string): string {
  const account = PLACEHOLDERS.accountId;
  const service = (type.split(":")[1] ?? "").split("/")[0];
  const elbArnPrefix = `arn:aws:elasticloadbalancing:${region}:${account}`;
  switch (type) {
    case "aws:s3/bucket:Bucket":
    case "aws:s3/bucketV2:BucketV2":
      return `arn:aws:s3:::${physicalName}`;
    case "aws:iam/role:Role":
      return `arn:aws:iam::${account}:role/${physicalName}`;
    case "aws:iam/policy:Policy":
      return `arn:aws:iam::${account}:policy/${physicalName}`;
    case "aws:iam/instanceProfile:InstanceProfile":
      return `arn:aws:iam::${account}:instance-profile/${physicalName}`;
    case "aws:kms/key:Key":
      return `arn:aws:kms:${region}:${account}:key/${shortHash(name, 8)}-0000-4000-8000-${shortHash(name + "k", 12)}`;
    case "aws:cloudwatch/logGroup:LogGroup":
      return `arn:aws:logs:${region}:${account}:log-group:${physicalName}`;
    case "aws:sns/topic:Topic":
      return `arn:aws:sns:${region}:${account}:${physicalName}`;
    case "aws:secretsmanager/secret:Secret":
      return `arn:aws:secretsmanager:${region}:${account}:secret:${physicalName}-${shortHash(name, 6)}`;
    case "aws:lb/loadBalancer:LoadBalancer":
      return `${elbArnPrefix}:loadbalancer/app/${physicalName}/${shortHash(name, 16)}`;
    case "aws:lb/targetGroup:TargetGroup":
      return `${elbArnPrefix}:targetgroup/${physicalName}/${shortHash(name, 16)}`;
    case "aws:rds/instance:Instance":
      return `arn:aws:rds:${region}:${account}:db:${physicalName}`;
    case "aws:wafv2/webAcl:WebAcl":
      return `arn:aws:wafv2:${region}:${account}:regional/webacl/${physicalName}/${shortHash(name, 36)}`;
    default:
      return `arn:aws:${service}:${region}:${account}:${service}/${physicalName}`;
  }
}

/** Physical (cloud) name: the explicit one the program gave, else Pulumi's auto-name shape. */
function physicalNameOf(name: string, inputs: Record<string, any>): string {
  return inputs.name ?? inputs.bucket ?? inputs.identifier ?? `${name}-${shortHash(name, 7)}`;
}

const idPrefixes: Record<string, string> = {
  "aws:ec2/vpc:Vpc": "vpc",
  "aws:ec2/subnet:Subnet": "subnet",
  "aws:ec2/securityGroup:SecurityGroup": "sg",
  "aws:ec2/instance:Instance": "i",
  "aws:ec2/ebsVolume:EbsVolume": "vol",
  "aws:ebs/volume:Volume": "vol",
  "aws:ec2/routeTable:RouteTable": "rtb",
  "aws:ec2/internetGateway:InternetGateway": "igw",
  "aws:ec2/natGateway:NatGateway": "nat",
  "aws:ec2/eip:Eip": "eipalloc",
  "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
  "aws:ec2/flowLog:FlowLog": "fl",
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg",
};

/** Outputs the provider would compute for one resource, on top of its inputs. */
export function computedOutputs(
  type: string,
  name: string,
  inputs: Record<string, any>,
  region: string,
): Record<string, any> {
  const physicalName = physicalNameOf(name, inputs);
  const prefix = idPrefixes[type];
  const id = prefix ? `${prefix}-${shortHash(name, 17)}` : physicalName;
  const arn = type.startsWith("aws:") ? arnFor(type, name, physicalName, region) : undefined;
  // Auto-named resources get their physical name as the provider would, so references to
  // `.name` (a role in an attachment, a profile on an instance) resolve as in a real run.
  const common = type.startsWith("aws:") ? { id, arn, name: physicalName, tagsAll: inputs.tags ?? {} } : { id };
  switch (type) {
    case "aws:s3/bucket:Bucket":
    case "aws:s3/bucketV2:BucketV2":
      return {
        ...common,
        bucket: physicalName,
        bucketDomainName: `${physicalName}.s3.amazonaws.com`,
        bucketRegionalDomainName: `${physicalName}.s3.${region}.amazonaws.com`,
        region,
      };
    case "aws:kms/key:Key":
      return { ...common, id: arn!.split("/").pop(), keyId: arn!.split("/").pop() };
    case "aws:lb/loadBalancer:LoadBalancer":
      return {
        ...common,
        id: arn,
        arnSuffix: arn!.split(":loadbalancer/")[1],
        dnsName: `${physicalName}-${shortHash(name, 9)}.${region}.elb.amazonaws.com`,
        zoneId: "Z35SXDOTRQ7X7K",
      };
    case "aws:lb/targetGroup:TargetGroup":
      return { ...common, id: arn, arnSuffix: arn!.split(":")[5] };
    case "aws:rds/instance:Instance":
      return {
        ...common,
        id: physicalName,
        resourceId: `db-${shortHash(name, 26).toUpperCase()}`,
        address: `${physicalName}.c${shortHash(name, 11)}.${region}.rds.amazonaws.com`,
        endpoint: `${physicalName}.c${shortHash(name, 11)}.${region}.rds.amazonaws.com:3306`,
        port: 3306,
        masterUserSecrets: inputs.manageMasterUserPassword
          ? [
              {
                // RDS names the master secret it manages `rds!db-<id>`.
                secretArn: arnFor("aws:secretsmanager/secret:Secret", name, `rds!db-${shortHash(name, 8)}`, region),
                kmsKeyId: inputs.masterUserSecretKmsKeyId,
                secretStatus: "active",
              },
            ]
          : [],
      };
    case "aws:ec2/instance:Instance":
      return {
        ...common,
        privateIp: "10.40.10.10",
        privateDns: "ip-10-40-10-10.ec2.internal",
        primaryNetworkInterfaceId: `eni-${shortHash(name, 17)}`,
      };
    case "aws:ec2/launchTemplate:LaunchTemplate":
      return { ...common, id: `lt-${shortHash(name, 17)}`, latestVersion: 1, defaultVersion: 1 };
    case "aws:efs/fileSystem:FileSystem":
      return { ...common, id: `fs-${shortHash(name, 17)}` };
    case "aws:efs/accessPoint:AccessPoint":
      return { ...common, id: `fsap-${shortHash(name, 17)}` };
    case "aws:elasticache/replicationGroup:ReplicationGroup":
      return {
        ...common,
        primaryEndpointAddress: `master.${physicalName}.${shortHash(name, 6)}.use1.cache.amazonaws.com`,
      };
    case "aws:ec2/vpc:Vpc":
      return {
        ...common,
        defaultSecurityGroupId: `sg-${shortHash(name + "default", 17)}`,
        mainRouteTableId: `rtb-${shortHash(name + "main", 17)}`,
        defaultNetworkAclId: `acl-${shortHash(name, 17)}`,
      };
    case "aws:ec2/vpcEndpoint:VpcEndpoint":
      return { ...common, prefixListId: `pl-${shortHash(name, 8)}`, dnsEntries: [] };
    case "aws:acm/certificate:Certificate":
      return {
        ...common,
        domainValidationOptions: [inputs.domainName, ...(inputs.subjectAlternativeNames ?? [])]
          .filter(Boolean)
          .map((domain: string) => ({
            domainName: domain,
            resourceRecordName: `_${shortHash(domain, 32)}.${domain}.`,
            resourceRecordType: "CNAME",
            resourceRecordValue: `_${shortHash(domain + "v", 32)}.acm-validations.aws.`,
          })),
      };
    case "aws:route53/record:Record":
      return { ...common, fqdn: String(inputs.name).replace(/\.$/, "") };
    case "aws:secretsmanager/secretVersion:SecretVersion":
      return { ...common, versionId: shortHash(name, 32) };
    case "random:index/randomPassword:RandomPassword":
      // A fixed, obviously fake value: the real one is generated at deploy time and never shown.
      return { ...common, id: "none", result: "x".repeat(inputs.length ?? 16), bcryptHash: "" };
    case "random:index/randomId:RandomId":
    case "random:index/randomString:RandomString":
      return {
        ...common,
        id: shortHash(name, 8),
        hex: shortHash(name, (inputs.byteLength ?? 4) * 2),
        result: shortHash(name, inputs.length ?? 8),
      };
    case "tls:index/privateKey:PrivateKey":
      return {
        ...common,
        id: shortHash(name, 40),
        privateKeyPem: "-----BEGIN PRIVATE KEY-----\n(generated at deploy time)\n-----END PRIVATE KEY-----\n",
        publicKeyPem: "",
      };
    case "tls:index/selfSignedCert:SelfSignedCert":
      return {
        ...common,
        id: shortHash(name, 40),
        certPem: "-----BEGIN CERTIFICATE-----\n(generated at deploy time)\n-----END CERTIFICATE-----\n",
      };
    default:
      return common;
  }
}

/** Results of the provider functions (invokes) the program calls. */
export function invokeResult(token: string, inputs: Record<string, any>, region: string): Record<string, any> {
  switch (token) {
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return {
        accountId: PLACEHOLDERS.accountId,
        arn: `arn:aws:iam::${PLACEHOLDERS.accountId}:user/deployer`,
        userId: "AIDEXAMPLE",
        id: PLACEHOLDERS.accountId,
      };
    case "aws:index/getRegion:getRegion":
      return { name: region, region, id: region, description: region, endpoint: `ec2.${region}.amazonaws.com` };
    case "aws:index/getPartition:getPartition":
      return { partition: PLACEHOLDERS.partition, dnsSuffix: "amazonaws.com", id: PLACEHOLDERS.partition };
    case "aws:index/getAvailabilityZones:getAvailabilityZones": {
      const names = PLACEHOLDERS.availabilityZoneSuffixes.map((suffix) => `${region}${suffix}`);
      return { names, zoneIds: names.map((_, index) => `use1-az${index + 1}`), id: region };
    }
    case "aws:elb/getServiceAccount:getServiceAccount":
      return { id: PLACEHOLDERS.elbAccountId, arn: `arn:aws:iam::${PLACEHOLDERS.elbAccountId}:root`, region };
    case "aws:ec2/getAmi:getAmi":
      return {
        id: PLACEHOLDERS.amiId,
        imageId: PLACEHOLDERS.amiId,
        name: PLACEHOLDERS.amiName,
        architecture: "x86_64",
        ownerId: inputs.owners?.[0],
        rootDeviceName: "/dev/xvda",
      };
    default:
      throw new Error(`offline run: no mock for the provider function ${token}; add one in infra/offline/mocks.ts`);
  }
}

/** The Pulumi mocks for a given region. */
export function offlineMocks(region: string): pulumi.runtime.Mocks {
  return {
    newResource: (args) => {
      const outputs = args.custom === false ? {} : computedOutputs(args.type, args.name, args.inputs, region);
      return { id: outputs.id ?? `${args.name}-id`, state: { ...args.inputs, ...outputs } };
    },
    call: (args) => invokeResult(args.token, args.inputs, region),
  };
}
