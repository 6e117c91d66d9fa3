// The delivery script on a first boot that comes before the network is whole: the bundle
// download fails (as `aws s3 cp` does while the NAT route or the S3 endpoint is not there yet),
// is tried again with a doubling pause, and the bootstrap runs once it succeeds; a network that
// never comes gives up after a bounded number of attempts. The script runs for real under bash,
// with its fixed paths pointed into a temporary tree and a stand-in `aws` that fails the first
// calls (the pause is set to 0 here).
import { execFileSync, spawnSync } from "child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join, resolve } from "path";
import { createHash } from "crypto";
import { describe, expect, it } from "vitest";

const SCRIPT = resolve(__dirname, "../../infra/delivery/openemr-aws-deliver.sh");

function deliverWithFailingNetwork(failures: number): { status: number | null; stdout: string; stderr: string } {
  const root = mkdtempSync(join(tmpdir(), "deliver-retry-"));
  const bin = join(root, "bin");
  mkdirSync(join(root, "bundle", "bin"), { recursive: true });
  mkdirSync(bin);
  mkdirSync(join(root, "apt"));
  writeFileSync(join(root, "bundle", "bin", "openemr-bootstrap"), "#!/bin/bash\necho bootstrap ran\n");
  chmodSync(join(root, "bundle", "bin", "openemr-bootstrap"), 0o755);
  const bundle = join(root, "bundle.tar.gz");
  execFileSync("tar", ["-czf", bundle, "-C", join(root, "bundle"), "bin"]);
  const sha256 = createHash("sha256").update(readFileSync(bundle)).digest("hex");
  writeFileSync(join(root, "settings.env"), "AWS_REGION=us-east-1\n");
  const calls = join(root, "aws-calls");
  writeFileSync(
    join(bin, "aws"),
    `#!/bin/bash
echo x >> ${calls}
if (( $(wc -l < ${calls}) <= ${failures} )); then
  echo "Could not connect to the endpoint URL" >&2
  exit 255
fi
cp ${bundle} "\${@: -1}"
`,
  );
  chmodSync(join(bin, "aws"), 0o755);
  const script = readFileSync(SCRIPT, "utf8")
    .replaceAll("/etc/openemr-aws/settings.env", join(root, "settings.env"))
    .replaceAll("/opt/openemr-aws-releases", join(root, "releases"))
    .replaceAll("/opt/openemr-aws", join(root, "current"))
    .replaceAll("/etc/apt/", join(root, "apt") + "/");
  const run = spawnSync("bash", ["-c", script, "openemr-aws-deliver", "bucket", "host-bundle/x.tar.gz", sha256], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, DELIVER_FIRST_PAUSE: "0" },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("delivery on a first boot before the network is whole", () => {
  it("tries the bundle download again, logging each failure, then runs the bootstrap", () => {
    const run = deliverWithFailingNetwork(3);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.match(/fetching the bundle failed \(attempt \d of 8\); trying again in 0s/g)).toHaveLength(3);
    expect(run.stdout).toContain("bootstrap ran");
  });

  it("gives up after a bounded number of attempts, saying so, and runs nothing", () => {
    const run = deliverWithFailingNetwork(100);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("openemr-aws-deliver: fetching the bundle failed 8 times; giving up");
    expect(run.stdout).not.toContain("bootstrap ran");
  });
});
