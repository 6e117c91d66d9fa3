// OpenEMR's database and its accounts on RDS, made at deploy time by a Lambda function in the
// app subnets that alone reads the master secret: the web host never holds it. The function's
// code is infra/lambda/db-users; the accounts' grants are infra/host/lib/db-grants.json, the
// list the bootstrap also uses where it runs its own MariaDB.
import { createHash } from "crypto";
import { readFileSync, readdirSync, statSync } from "fs";
import { dirname, join, relative } from "path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { hostDirectory, projectRoot } from "../delivery/bundle";
import { configDefault } from "../config-defaults";
import { assumableByService } from "./trust-policy";
import type { Account, Grant, Request } from "../lambda/db-users";

/** The account roles of infra/host/lib/db-grants.json, each with a secret of its own. */
export type DatabaseAccountRole = "app" | "backup" | "restore";

interface GrantList {
  database: { characterSet: string; collation: string };
  accounts: { role: DatabaseAccountRole; grants: (Grant & { tiers?: string[] })[] }[];
}

/** The one grant list (the host's bootstrap reads the same file). */
export function grantList(): GrantList {
  return JSON.parse(readFileSync(join(hostDirectory, "lib", "db-grants.json"), "utf8"));
}

/**
 * The grants of each account on an RDS database: those without a `tiers` list or listing
 * `standard`; a grant's `servers` list goes with it, for the function to honour on the server it reaches.
 */
export function rdsGrants(): Record<DatabaseAccountRole, Grant[]> {
  return Object.fromEntries(
    grantList().accounts.map((account) => [
      account.role,
      account.grants
        .filter((grant) => !grant.tiers || grant.tiers.includes("standard"))
        .map(({ privileges, on, servers }): Grant => (servers ? { privileges, on, servers } : { privileges, on })),
    ]),
  ) as Record<DatabaseAccountRole, Grant[]>;
}

export const functionDirectory = join(projectRoot(), "infra", "lambda", "db-users");

/**
 * The function's files: its handler and the npm packages it loads (mysql2 and what mysql2
 * depends on, found from the checkout's node_modules at their paths there, so Node resolves them
 * as it does here). The AWS SDK is the runtime's own.
 */
export function functionFiles(): { path: string; source: string }[] {
  const root = projectRoot();
  const packageDirectory = (name: string, from: string): string => {
    for (let directory = from; ; directory = dirname(directory)) {
      const candidate = join(directory, "node_modules", name);
      if (statSync(join(candidate, "package.json"), { throwIfNoEntry: false })) return candidate;
      if (directory === root || directory === dirname(directory))
        throw new Error(`db-users function: npm package ${name} is not installed under ${from}; run npm ci`);
    }
  };
  const packages = new Set<string>();
  const pending = [packageDirectory("mysql2", root)];
  while (pending.length > 0) {
    const directory = pending.pop()!;
    if (packages.has(directory)) continue;
    packages.add(directory);
    const manifest = JSON.parse(readFileSync(join(directory, "package.json"), "utf8"));
    for (const dependency of Object.keys(manifest.dependencies ?? {}))
      pending.push(packageDirectory(dependency, directory));
  }
  const files: { path: string; source: string }[] = [{ path: "index.js", source: join(functionDirectory, "index.js") }];
  const walk = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const source = join(directory, entry.name);
      // A package's own node_modules holds nested dependencies: those are walked as packages.
      if (entry.isDirectory() && entry.name !== "node_modules") walk(source);
      else if (entry.isFile()) files.push({ path: relative(root, source), source });
    }
  };
  for (const directory of packages) walk(directory);
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/** The function's code as an archive, and a sha256 over its paths and contents (stable across checkouts). */
export function functionArchive(): { archive: pulumi.asset.AssetArchive; sha256: string } {
  const files = functionFiles();
  const hash = createHash("sha256");
  for (const file of files) hash.update(file.path).update("\0").update(readFileSync(file.source)).update("\0");
  return {
    archive: new pulumi.asset.AssetArchive(
      Object.fromEntries(files.map((file) => [file.path, new pulumi.asset.FileAsset(file.source)])),
    ),
    sha256: hash.digest("hex"),
  };
}

export interface DatabaseUsersArgs {
  stackName: string;
  /** The RDS database the accounts are made on. */
  database: {
    address: pulumi.Input<string>;
    port: pulumi.Input<number>;
    /** ARN of the RDS-managed master secret: only this component's function may read it. */
    masterSecretArn: pulumi.Input<string>;
    /** RDS's resource id: a replaced instance has a new one, and the accounts are made again. */
    resourceId: pulumi.Input<string>;
  };
  /** OpenEMR's database (the host's `DB_NAME`). */
  databaseName: string;
  /** The host part of every account, the block the web host connects from (`address/netmask`). */
  accountHost: string;
  /** Each account's secret (`{"username", "password"}`), by its role in the grant list. */
  accountSecretArns: Record<DatabaseAccountRole, pulumi.Input<string>>;
  /** The key that encrypts the master and account secrets (the function decrypts through Secrets Manager only). */
  secretsKeyArn: pulumi.Input<string>;
  /** The private app subnets the function runs in, with a route to Secrets Manager. */
  subnetIds: pulumi.Input<string>[];
  /** The function's group: MySQL to the database, HTTPS to Secrets Manager. */
  securityGroupId: pulumi.Input<string>;
  /** Encrypts the function's log group. */
  logsKeyArn: pulumi.Input<string>;
  /** Days the function's log group keeps logs. Defaults to the stack's `logRetentionDays`. */
  logRetentionDays?: number;
  /** Keep the log group on `pulumi destroy`. Defaults to the stack's `retainDataOnDestroy`. */
  retainLogsOnDestroy?: boolean;
  /** What the function needs in place before it runs: its routes, endpoints and security group rules. */
  networkReady?: pulumi.Resource[];
}

export class DatabaseUsers extends pulumi.ComponentResource {
  public readonly function: aws.lambda.Function;
  public readonly role: aws.iam.Role;
  public readonly invocation: aws.lambda.Invocation;

  constructor(name: string, args: DatabaseUsersArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openemr-aws:database:DatabaseUsers", name, {}, opts);
    const parent = { parent: this };
    const region = aws.getRegionOutput({}, parent).region;
    const accountId = aws.getCallerIdentityOutput({}, parent).accountId;
    const partition = aws.getPartitionOutput({}, parent).partition;
    // Lambda names are at most 64 characters.
    const functionName = `openemr-aws-${args.stackName}`.slice(0, 55) + "-db-users";

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      {
        name: `/aws/lambda/${functionName}`,
        kmsKeyId: args.logsKeyArn,
        retentionInDays: args.logRetentionDays ?? configDefault("logRetentionDays"),
      },
      { parent: this, retainOnDelete: args.retainLogsOnDestroy ?? configDefault("retainDataOnDestroy") },
    );

    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        description:
          "OpenEMR database accounts function: the master secret, the account secrets, its network interfaces",
        assumeRolePolicy: assumableByService("lambda.amazonaws.com", undefined, accountId),
      },
      parent,
    );
    const secretArns = [args.database.masterSecretArn, ...Object.values(args.accountSecretArns)];
    const ec2Arn = (resource: string) => pulumi.interpolate`arn:${partition}:ec2:${region}:${accountId}:${resource}`;
    const policy = new aws.iam.Policy(
      `${name}-access`,
      {
        description:
          "OpenEMR database accounts function: read the master and account secrets, write its log group, " +
          "manage its network interfaces",
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            { Sid: "ReadSecrets", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: secretArns },
            {
              Sid: "DecryptSecretsThroughSecretsManager",
              Effect: "Allow",
              Action: "kms:Decrypt",
              Resource: args.secretsKeyArn,
              Condition: {
                StringEquals: { "kms:ViaService": pulumi.interpolate`secretsmanager.${region}.amazonaws.com` },
              },
            },
            {
              Sid: "WriteOwnLogs",
              Effect: "Allow",
              Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
              Resource: pulumi.interpolate`${logGroup.arn}:*`,
            },
            // Lambda attaches the function to the VPC through network interfaces it creates with
            // this role; Describe* cannot be scoped to a resource.
            // https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html
            {
              Sid: "DescribeNetwork",
              Effect: "Allow",
              Action: ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
              Resource: "*",
            },
            {
              Sid: "CreateNetworkInterfaces",
              Effect: "Allow",
              Action: "ec2:CreateNetworkInterface",
              Resource: [ec2Arn("network-interface/*"), ec2Arn("subnet/*"), ec2Arn("security-group/*")],
            },
            {
              Sid: "ManageNetworkInterfaces",
              Effect: "Allow",
              Action: ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"],
              Resource: ec2Arn("network-interface/*"),
            },
          ],
        }),
      },
      parent,
    );
    const attachment = new aws.iam.RolePolicyAttachment(
      `${name}-access`,
      { role: this.role.name, policyArn: policy.arn },
      parent,
    );

    const code = functionArchive();
    this.function = new aws.lambda.Function(
      `${name}-function`,
      {
        name: functionName,
        description: "Creates OpenEMR's database and its app, backup and restore accounts with the master secret",
        role: this.role.arn,
        runtime: aws.lambda.Runtime.NodeJS22dX,
        architectures: ["arm64"],
        handler: "index.handler",
        code: code.archive,
        memorySize: 256,
        timeout: 60,
        vpcConfig: { subnetIds: args.subnetIds, securityGroupIds: [args.securityGroupId] },
        loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
      },
      { parent: this, dependsOn: [logGroup, attachment, ...(args.networkReady ?? [])] },
    );

    const grants = rdsGrants();
    const { characterSet, collation } = grantList().database;
    const roles = Object.keys(args.accountSecretArns) as DatabaseAccountRole[];
    const request: pulumi.Output<Request> = pulumi
      .all([
        args.database.address,
        args.database.port,
        args.database.masterSecretArn,
        pulumi.all(roles.map((role) => args.accountSecretArns[role])),
      ])
      .apply(([host, port, masterSecretArn, secretArns]) => ({
        host,
        port,
        masterSecretArn,
        database: { name: args.databaseName, characterSet, collation },
        accountHost: args.accountHost,
        accounts: roles.map((role, index): Account => ({ role, secretArn: secretArns[index], grants: grants[role] })),
      }));
    this.invocation = new aws.lambda.Invocation(
      `${name}-run`,
      {
        functionName: this.function.name,
        input: request.apply((value) => JSON.stringify(value)),
        // A new instance, a changed grant list or changed code: make the accounts again.
        triggers: {
          instance: args.database.resourceId,
          grants: createHash("sha256").update(JSON.stringify(grants)).digest("hex"),
          code: code.sha256,
        },
      },
      parent,
    );

    this.registerOutputs({ functionName: this.function.name, roleArn: this.role.arn });
  }
}
