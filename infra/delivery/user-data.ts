// What reaches the host before the bundle: settings.env (names and ARNs, never a secret), the
// delivery script, and the command that runs it, as cloud-init user-data and as the SSM
// document that re-runs the same delivery later.
import { readFileSync } from "fs";
import { join } from "path";
import { stringify } from "yaml";
import { projectRoot } from "./bundle";

/** Settings the host reads from /etc/openemr-aws/settings.env (docs/host-interface.md). */
export type HostSettings = Record<string, string>;

export interface BundleLocation {
  bucket: string;
  key: string;
  sha256: string;
}

export const settingsPath = "/etc/openemr-aws/settings.env";
export const deliverScriptPath = "/usr/local/sbin/openemr-aws-deliver";
export const deliverScript = readFileSync(join(projectRoot(), "infra", "delivery", "openemr-aws-deliver.sh"), "utf8");

/** EC2's limit on user-data, before base64. */
export const userDataLimitBytes = 16 * 1024;

/** `KEY=value` lines; values are names, ARNs and numbers, so no quoting is needed or allowed. */
export function renderSettings(settings: HostSettings): string {
  return Object.entries(settings)
    .map(([key, value]) => {
      if (!/^[A-Z][A-Z0-9_]*$/.test(key))
        throw new Error(`settings.env: key ${JSON.stringify(key)} is not an upper-case shell name`);
      if (/[\s"'`$\\]/.test(value))
        throw new Error(
          `settings.env: ${key}=${JSON.stringify(value)} holds whitespace, a quote or a shell character; ` +
            "expected a plain name, ARN or number",
        );
      return `${key}=${value}\n`;
    })
    .join("");
}

export function renderUserData(settings: HostSettings, bundle: BundleLocation): string {
  const document = {
    write_files: [
      { path: settingsPath, owner: "root:root", permissions: "0644", content: renderSettings(settings) },
      { path: deliverScriptPath, owner: "root:root", permissions: "0755", content: deliverScript },
    ],
    runcmd: [[deliverScriptPath, bundle.bucket, bundle.key, bundle.sha256]],
  };
  const userData = `#cloud-config\n${stringify(document, { lineWidth: 0 })}`;
  const size = Buffer.byteLength(userData);
  if (size > userDataLimitBytes)
    throw new Error(`user-data is ${size} bytes; EC2 accepts at most ${userDataLimitBytes}`);
  return userData;
}

/**
 * Content of the SSM Command document that re-runs delivery: it rewrites settings.env and the
 * delivery script as the stack now declares them, then delivers the bundle its parameters name
 * (by default the stack's current bundle) and runs the bootstrap.
 */
export function renderDeliveryDocument(settings: HostSettings, bundle: BundleLocation): string {
  const heredoc = (path: string, mode: string, content: string) => [
    `install -d -m 0755 ${path.slice(0, path.lastIndexOf("/"))}`,
    `cat > ${path}.new <<'OPENEMR_AWS_EOF'\n${content.replace(/\n$/, "")}\nOPENEMR_AWS_EOF`,
    `chmod ${mode} ${path}.new && mv -f ${path}.new ${path}`,
  ];
  return JSON.stringify({
    schemaVersion: "2.2",
    description: "Deliver the OpenEMR host bundle (checked by sha256) and run the bootstrap",
    parameters: {
      BundleBucket: {
        type: "String",
        description: "Bucket holding the bundle",
        default: bundle.bucket,
        allowedPattern: "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
      },
      BundleKey: {
        type: "String",
        description: "Object key of the bundle",
        default: bundle.key,
        allowedPattern: "^host-bundle/[0-9a-f]{64}\\.tar\\.gz$",
      },
      BundleSha256: {
        type: "String",
        description: "sha256 the bundle must have",
        default: bundle.sha256,
        allowedPattern: "^[0-9a-f]{64}$",
      },
    },
    mainSteps: [
      {
        action: "aws:runShellScript",
        name: "deliver",
        inputs: {
          timeoutSeconds: "3600",
          // aws:runShellScript hands these lines to `sh` (dash on Debian), which has no `pipefail`:
          // they stay POSIX sh and pipe-free; the delivery script runs under its own bash shebang.
          // https://docs.aws.amazon.com/systems-manager/latest/userguide/documents-command-ssm-plugin-reference.html
          runCommand: [
            "set -eu",
            ...heredoc(settingsPath, "0644", renderSettings(settings)),
            ...heredoc(deliverScriptPath, "0755", deliverScript),
            `${deliverScriptPath} '{{ BundleBucket }}' '{{ BundleKey }}' '{{ BundleSha256 }}'`,
          ],
        },
      },
    ],
  });
}
