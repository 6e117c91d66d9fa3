// The host's delivery: the bundle's checksum is a function of the host files alone, the
// user-data is small, valid cloud-config and secret-free, and the delivery script installs
// exactly the bundle it was told to (run for real, in a private mount namespace).
import { execFileSync, spawnSync } from "child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHostBundle, hostDirectory } from "../../infra/delivery/bundle";
import { renderSettings, userDataLimitBytes } from "../../infra/delivery/user-data";
import type { OfflineRun } from "../../infra/offline/run";
import { planStack } from "../../infra/plan/plan";
import { hostInstance, named, secretValues, userDataSettings } from "./helpers";

const scratch = mkdtempSync(join(tmpdir(), "openemr-aws-delivery-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let single: OfflineRun;
let standard: OfflineRun;
beforeAll(async () => {
  single = await planStack({ config: { "openemr:tier": "single" }, stackName: "clinic-small" });
  standard = await planStack({ config: { "openemr:tier": "standard" }, stackName: "clinic-prod" });
});
const tierNames = ["single", "standard"] as const;
const runOf = (tier: (typeof tierNames)[number]) => (tier === "single" ? single : standard);
const userData = (run: OfflineRun): string => hostInstance(run).inputs.userData;

/** A copy of infra/host to change without touching the real one. */
function hostCopy(label: string): string {
  const copy = join(scratch, label);
  cpSync(hostDirectory, copy, { recursive: true });
  mkdirSync(join(copy, "bin"), { recursive: true });
  writeFileSync(join(copy, "bin", "openemr-bootstrap"), "#!/bin/sh\necho bootstrap ran > /opt/bootstrap-marker\n");
  chmodSync(join(copy, "bin", "openemr-bootstrap"), 0o755);
  return copy;
}

describe("host bundle", () => {
  it("bundle: sha256 is the same in two separate processes", () => {
    const inChild = execFileSync(
      process.execPath,
      [
        "-r",
        "ts-node/register/transpile-only",
        "-e",
        'process.stdout.write(require("./infra/delivery/bundle").buildHostBundle().sha256)',
      ],
      { encoding: "utf8" },
    );
    expect(inChild).toBe(buildHostBundle().sha256);
  });
  it("bundle: sha256 ignores file times", () => {
    const copy = hostCopy("times");
    const before = buildHostBundle(copy).sha256;
    utimesSync(join(copy, "bin", "openemr-bootstrap"), new Date("2030-01-01"), new Date("2030-01-01"));
    expect(buildHostBundle(copy).sha256).toBe(before);
  });
  it("bundle: sha256 changes when a host file changes", () => {
    const copy = hostCopy("content");
    const before = buildHostBundle(copy).sha256;
    writeFileSync(join(copy, "bin", "openemr-bootstrap"), "#!/bin/sh\necho changed\n");
    expect(buildHostBundle(copy).sha256).not.toBe(before);
  });
  it("bundle: sha256 changes when a file's executable bit changes", () => {
    const copy = hostCopy("mode");
    const before = buildHostBundle(copy).sha256;
    chmodSync(join(copy, "bin", "openemr-bootstrap"), 0o644);
    expect(buildHostBundle(copy).sha256).not.toBe(before);
  });
  it("bundle: unpacks to the files of infra/host", () => {
    const target = join(scratch, "unpacked");
    mkdirSync(target);
    const archive = join(scratch, "bundle.tar.gz");
    writeFileSync(archive, buildHostBundle().content);
    execFileSync("tar", ["-xzf", archive, "-C", target]);
    expect(spawnSync("diff", ["-r", hostDirectory, target]).status).toBe(0);
  });
  it.each(tierNames)("bundle (%s): uploaded to host-bundle/<sha256>.tar.gz, SSE-KMS with the data key", (tier) => {
    const run = runOf(tier);
    const bundle = buildHostBundle();
    const object = named(run, "aws:s3/bucketObjectv2:BucketObjectv2", "host-bundle");
    expect([
      object.inputs.key,
      object.inputs.contentBase64,
      object.inputs.serverSideEncryption,
      object.inputs.kmsKeyId,
    ]).toEqual([
      `host-bundle/${bundle.sha256}.tar.gz`,
      bundle.content.toString("base64"),
      "aws:kms",
      named(run, "aws:kms/key:Key", "keys-data").state.arn,
    ]);
  });
});

/** The settings of the ha tier's shared stores (docs/host-interface.md). */
const haStoreSettings = ["EFS_FILE_SYSTEM_ID", "EFS_ACCESS_POINT_ID", "SESSION_CACHE_HOST", "SECRET_SESSION_CACHE"];

describe("user-data", () => {
  it.each(tierNames)("user-data (%s): under EC2's 16 KB limit", (tier) => {
    expect(Buffer.byteLength(userData(runOf(tier)))).toBeLessThan(userDataLimitBytes);
  });
  it.each(tierNames)("user-data (%s): holds no secret value", (tier) => {
    const run = runOf(tier);
    const secrets = secretValues(run);
    expect(secrets.length).toBeGreaterThan(0);
    expect(secrets.filter((secret) => userData(run).includes(secret))).toEqual([]);
  });
  it.each(tierNames)("user-data (%s): passes cloud-init's schema check", (tier) => {
    const file = join(scratch, `user-data-${tier}.yaml`);
    writeFileSync(file, userData(runOf(tier)));
    const result = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
    expect(`${result.status} ${result.stdout}${result.stderr}`).toMatch(/^0 Valid cloud-config/);
  });
  it.each(tierNames)("user-data (%s): runs the delivery script on the stack's bundle", (tier) => {
    const run = runOf(tier);
    const object = named(run, "aws:s3/bucketObjectv2:BucketObjectv2", "host-bundle");
    expect(parse(userData(run)).runcmd).toEqual([
      ["/usr/local/sbin/openemr-aws-deliver", run.outputs.backupBucket, object.inputs.key, buildHostBundle().sha256],
    ]);
  });
  it("user-data: installs the delivery script as written in infra/delivery", () => {
    const script = parse(userData(standard)).write_files.find(
      (file: any) => file.path === "/usr/local/sbin/openemr-aws-deliver",
    );
    expect([script.content, script.permissions]).toEqual([
      readFileSync("infra/delivery/openemr-aws-deliver.sh", "utf8"),
      "0755",
    ]);
  });
  it.each(tierNames)("user-data (%s): settings.env has every key of the host contract for EC2", (tier) => {
    const contract = readFileSync("docs/host-interface.md", "utf8").split("## settings.env")[1].split("\n## ")[0];
    const keys = [...contract.matchAll(/^\| (`[A-Z0-9_]+`(?: \/ `[A-Z0-9_]+`)*) \|/gm)].flatMap((match) =>
      match[1].replace(/`/g, "").split(" / "),
    );
    // BACKUP_DIR and the signing key file are on-prem's; RESTORE_KEEP_DAYS keeps its default; the
    // shared stores are the ha tier's (tests/infra/ha.test.ts).
    const ec2Keys = keys.filter(
      (key) =>
        !["BACKUP_DIR", "BACKUP_SIGNING_KEY_FILE", "RESTORE_KEEP_DAYS"].includes(key) &&
        !haStoreSettings.includes(key) &&
        (!["DATA_VOLUME_ID", "DATA_DIR"].includes(key) || tier === "single"),
    );
    expect(Object.keys(userDataSettings(runOf(tier))).sort()).toEqual(ec2Keys.sort());
  });
  it.each(tierNames)("user-data (%s): Apache trusts X-Forwarded-For from the VPC's range only", (tier) => {
    const run = runOf(tier);
    const vpc = run.resources.find((resource) => resource.type === "aws:ec2/vpc:Vpc")!;
    expect(userDataSettings(run).TRUSTED_PROXY_CIDR).toBe(vpc.inputs.cidrBlock);
  });
  it("user-data (standard): settings point at RDS over TLS, and hold no master secret", () => {
    const settings = userDataSettings(standard);
    const rds = named(standard, "aws:rds/instance:Instance", "database-instance");
    expect([
      settings.DB_HOST,
      settings.DB_PORT,
      settings.DB_CA_FILE,
      settings.SECRET_DB_MASTER,
      settings.DB_APP_HOST,
    ]).toEqual([rds.state.address, "3306", "/etc/openemr-aws/rds-ca.pem", "", "10.40.64.0/255.255.192.0"]);
  });
  it("user-data (single): settings point at the local MariaDB with no master secret", () => {
    const settings = userDataSettings(single);
    expect([settings.DB_HOST, settings.DB_APP_HOST, settings.SECRET_DB_MASTER]).toEqual(["localhost", "localhost", ""]);
  });
  it("settings.env: a value with whitespace or a quote is refused, naming the key", () => {
    expect(() => renderSettings({ OPENEMR_DOMAIN: "emr.example.org\nEVIL=1" })).toThrow(
      /OPENEMR_DOMAIN=.*expected a plain name/,
    );
  });
});

describe("SSM delivery document", () => {
  it.each(tierNames)("ssm document (%s): a Command document whose parameters default to the current bundle", (tier) => {
    const run = runOf(tier);
    const document = named(run, "aws:ssm/document:Document", "host-deliver");
    const content = JSON.parse(document.inputs.content);
    const object = named(run, "aws:s3/bucketObjectv2:BucketObjectv2", "host-bundle");
    expect([
      document.inputs.documentType,
      content.parameters.BundleBucket.default,
      content.parameters.BundleKey.default,
      content.parameters.BundleSha256.default,
    ]).toEqual(["Command", run.outputs.backupBucket, object.inputs.key, buildHostBundle().sha256]);
  });
  it("ssm document: rewrites settings.env and the delivery script, then runs it with the parameters", () => {
    const commands: string[] = JSON.parse(named(standard, "aws:ssm/document:Document", "host-deliver").inputs.content)
      .mainSteps[0].inputs.runCommand;
    const script = commands.join("\n");
    expect([
      script.includes(renderSettings(userDataSettings(standard))),
      script.includes(readFileSync("infra/delivery/openemr-aws-deliver.sh", "utf8").trimEnd()),
      commands[commands.length - 1],
    ]).toEqual([
      true,
      true,
      "/usr/local/sbin/openemr-aws-deliver '{{ BundleBucket }}' '{{ BundleKey }}' '{{ BundleSha256 }}'",
    ]);
  });
  // Run Command's aws:runShellScript runs the commands with `sh`, dash on Debian.
  it("ssm document: its commands run under sh (dash) and write settings.env and the delivery script", () => {
    const commands: string[] = JSON.parse(named(standard, "aws:ssm/document:Document", "host-deliver").inputs.content)
      .mainSteps[0].inputs.runCommand;
    const root = mkdtempSync(join(scratch, "ssm-sh-"));
    // Absolute paths point into `root`, on each command's first line only: heredoc bodies stay as they are.
    const inRoot = (command: string) =>
      command.replace(/^[^\n]*/, (line) => line.replace(/ \/(etc|usr)\//g, ` ${root}/$1/`));
    const body = [...commands.slice(0, -1).map(inRoot), "echo reached the delivery"].join("\n");
    writeFileSync(join(root, "commands.sh"), body);
    const result = spawnSync("dash", [join(root, "commands.sh")], { encoding: "utf8" });
    const written = (path: string) => (existsSync(join(root, path)) ? readFileSync(join(root, path), "utf8") : null);
    expect([
      `${result.status} ${result.stderr}`,
      result.stdout,
      written("etc/openemr-aws/settings.env"),
      written("usr/local/sbin/openemr-aws-deliver"),
    ]).toEqual([
      "0 ",
      "reached the delivery\n",
      renderSettings(userDataSettings(standard)),
      readFileSync("infra/delivery/openemr-aws-deliver.sh", "utf8"),
    ]);
  });
  it("ssm document: its commands are POSIX sh by shellcheck", () => {
    const commands: string[] = JSON.parse(named(standard, "aws:ssm/document:Document", "host-deliver").inputs.content)
      .mainSteps[0].inputs.runCommand;
    const result = spawnSync("shellcheck", ["--shell=sh", "-"], { input: commands.join("\n"), encoding: "utf8" });
    expect(`${result.status}${result.stdout}`).toBe("0");
  });
  it("ssm document: output names it", () => {
    expect(standard.outputs.bootstrapDocumentName).toBe(
      named(standard, "aws:ssm/document:Document", "host-deliver").inputs.name,
    );
  });
});

describe("delivery script", () => {
  const script = join(process.cwd(), "infra/delivery/openemr-aws-deliver.sh");

  it("delivery script: shellcheck-clean", () => {
    const result = spawnSync("shellcheck", [script], { encoding: "utf8" });
    expect(`${result.status}${result.stdout}`).toBe("0");
  });

  /**
   * Runs the script as root in a private mount namespace: /etc is an overlay and /opt a tmpfs,
   * so nothing on this machine changes. `aws` is a stand-in that copies from a local folder.
   */
  function deliver(args: string[]): { status: number | null; output: string; opt: string } {
    const root = mkdtempSync(join(scratch, "ns-"));
    for (const dir of ["upper", "work", "bin", "s3/bucket/host-bundle", "opt-view"])
      mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(
      join(root, "bin", "aws"),
      [
        "#!/bin/sh",
        "# aws s3 cp --only-show-errors --region R s3://BUCKET/KEY DEST",
        'eval "src=\\$$(($# - 1))"; eval "dest=\\$$#"',
        `cp "${root}/s3/\${src#s3://}" "$dest"`,
        "",
      ].join("\n"),
    );
    chmodSync(join(root, "bin", "aws"), 0o755);
    const bundle = buildHostBundle(hostCopy(`bundle-${root.slice(-6)}`));
    writeFileSync(join(root, "s3/bucket", bundle.key), bundle.content);
    const quoted = args.map((arg) => `'${arg.replace("SHA", bundle.sha256).replace("KEY", bundle.key)}'`).join(" ");
    const inner = [
      "set -e",
      `mount -t overlay overlay -o lowerdir=/etc,upperdir=${root}/upper,workdir=${root}/work /etc`,
      "mount -t tmpfs tmpfs /opt",
      "mkdir -p /etc/openemr-aws && printf 'AWS_REGION=us-east-1\\n' > /etc/openemr-aws/settings.env",
      `set +e; PATH=${root}/bin:$PATH bash ${script} ${quoted}; status=$?`,
      `cp -a /opt/. ${root}/opt-view/ 2>/dev/null; exit $status`,
    ].join("\n");
    const result = spawnSync("unshare", ["--mount", "--propagation", "private", "bash", "-c", inner], {
      encoding: "utf8",
    });
    return { status: result.status, output: result.stdout + result.stderr, opt: join(root, "opt-view") };
  }

  it("delivery script: installs the bundle whose sha256 matches and runs the bootstrap", () => {
    const { status, output, opt } = deliver(["bucket", "KEY", "SHA"]);
    expect(
      [
        status,
        readFileSync(join(opt, "bootstrap-marker"), "utf8"),
        readlinkSync(join(opt, "openemr-aws")).startsWith("/opt/openemr-aws-releases/"),
      ],
      output,
    ).toEqual([0, "bootstrap ran\n", true]);
  });
  it("delivery script: refuses a bundle whose sha256 differs and installs nothing", () => {
    const { status, output, opt } = deliver(["bucket", "KEY", "0".repeat(64)]);
    expect([status, /not installing it/.test(output), existsSync(join(opt, "openemr-aws"))]).toEqual([1, true, false]);
  });
  it("delivery script: a malformed sha256 is a usage error", () => {
    const { status, output } = deliver(["bucket", "KEY", "not-a-sha"]);
    expect([status, output.trim()]).toEqual([
      2,
      "openemr-aws-deliver: SHA256 must be 64 lower-case hex digits, got 'not-a-sha'",
    ]);
  });
});
