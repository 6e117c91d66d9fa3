// The host bootstrap installs AWS's SSM and CloudWatch agents for the host's own CPU: Graviton
// (arm64) hosts get the arm64 packages. `dpkg` is a fake on PATH naming the architecture, as the
// test machine is amd64 and has no AWS to download from.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const HOST = resolve(__dirname, "../../infra/host");
const cloudwatch = "https://amazoncloudwatch-agent-eu-west-1.s3.eu-west-1.amazonaws.com";

describe("agent packages follow the host's architecture", () => {
  let bin: string;
  beforeAll(() => {
    bin = mkdtempSync(join(tmpdir(), "fake-dpkg-"));
    writeFileSync(
      join(bin, "dpkg"),
      '#!/usr/bin/env bash\n[ "$*" = "--print-architecture" ] || exit 2\necho "$FAKE_ARCHITECTURE"\n',
    );
    chmodSync(join(bin, "dpkg"), 0o755);
  });
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  const urls = (architecture: string) =>
    spawnSync(
      "bash",
      [
        "--norc",
        "--noprofile",
        "-c",
        `set -euo pipefail; source ${HOST}/lib/common.sh; source ${HOST}/lib/steps.sh; ` +
          'architecture=$(agent_architecture); agent_package_urls "$architecture"',
      ],
      {
        encoding: "utf8",
        env: {
          PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
          AWS_REGION: "eu-west-1",
          FAKE_ARCHITECTURE: architecture,
        },
      },
    );

  it("downloads the arm64 packages on a Graviton host", () => {
    const run = urls("arm64");
    expect(run.stderr).toBe("");
    expect(run.stdout.trim().split("\n")).toEqual([
      "https://s3.eu-west-1.amazonaws.com/amazon-ssm-eu-west-1/latest/debian_arm64/amazon-ssm-agent.deb",
      `${cloudwatch}/debian/arm64/latest/amazon-cloudwatch-agent.deb`,
    ]);
  });

  it("downloads the amd64 packages on an x86_64 host", () => {
    const run = urls("amd64");
    expect(run.stdout.trim().split("\n")).toEqual([
      "https://s3.eu-west-1.amazonaws.com/amazon-ssm-eu-west-1/latest/debian_amd64/amazon-ssm-agent.deb",
      `${cloudwatch}/debian/amd64/latest/amazon-cloudwatch-agent.deb`,
    ]);
  });

  it("stops on an architecture AWS publishes no agent for, naming it", () => {
    const run = urls("armhf");
    expect(run.status).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(
      "AWS publishes no SSM or CloudWatch agent package for architecture 'armhf'; expected amd64 or arm64",
    );
  });
});
