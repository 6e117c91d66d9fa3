// The OpenEMR admin credentials in Secrets Manager: show them (on a terminal only, unless
// --force), or rotate them: new value staged as AWSPENDING, set in OpenEMR on the host, and
// only then made AWSCURRENT, so a failed rotation leaves the working password in place.
import { randomBytes, randomUUID } from "node:crypto";
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { quote } from "zx";
import { awsCall, EXIT_FAILED, EXIT_OK, OpsError, UsageError } from "../lib/errors";
import type { Context } from "../lib/context";
import { emit } from "../lib/printing";
import { commandHost } from "../lib/host-group";
import { requireOutputs } from "../lib/stack-outputs";
import { READ_HOST_SETTINGS, runOnHost } from "../lib/ssm";

interface Credentials {
  username: string;
  password: string;
}

async function readCredentials(
  ctx: Context,
  secretArn: string,
): Promise<{ credentials: Credentials; versionId: string }> {
  const secret = await awsCall("Secrets Manager GetSecretValue", () =>
    ctx.aws.secrets.send(new GetSecretValueCommand({ SecretId: secretArn })),
  );
  try {
    const credentials = JSON.parse(secret.SecretString ?? "") as Credentials;
    if (typeof credentials.username !== "string" || typeof credentials.password !== "string") throw new Error("shape");
    return { credentials, versionId: secret.VersionId ?? "" };
  } catch {
    // The value itself is never echoed: it is a secret even when malformed.
    throw new OpsError(`the admin secret ${secretArn} is not a JSON object with username and password`);
  }
}

export async function adminPassword(ctx: Context, options: { force?: boolean }): Promise<number> {
  if (!ctx.io.stdoutIsTTY && !options.force) {
    throw new UsageError(
      "admin-password prints a secret: stdout is not a terminal, so it refuses; pass --force to print it anyway",
    );
  }
  const { adminPasswordSecretArn, url } = requireOutputs(ctx.outputs, "admin-password", [
    "adminPasswordSecretArn",
    "url",
  ]);
  const { credentials } = await readCredentials(ctx, adminPasswordSecretArn);
  emit(ctx, { command: "admin-password", url, username: credentials.username, password: credentials.password }, () =>
    [`URL:      ${url}`, `Username: ${credentials.username}`, `Password: ${credentials.password}`].join("\n"),
  );
  return EXIT_OK;
}

/**
 * A password OpenEMR's unattended tooling accepts: letters, digits and `-`/`_` only (no `=`
 * or spaces), with each character class present.
 */
export function generatePassword(): string {
  return `Oe1-${randomBytes(24).toString("base64url")}`;
}

/** Reads the pending secret on the host and sets it as the admin's password in OpenEMR. */
export function setPasswordScript(versionId: string): string {
  return `set -euo pipefail
${READ_HOST_SETTINGS}
secret() {
  aws secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$1" "\${@:2}" \\
    --query SecretString --output text
}
ADMIN_JSON=$(secret "$SECRET_ADMIN" --version-id ${quote(versionId)})
DB_JSON=$(secret "$SECRET_DB_APP")
export ADMIN_JSON DB_JSON
php -r '
  $admin = json_decode(getenv("ADMIN_JSON"), true); $app = json_decode(getenv("DB_JSON"), true);
  $db = mysqli_init(); $db->ssl_set(null, null, getenv("DB_CA_FILE") ?: null, null, null);
  $flags = getenv("DB_HOST") === "localhost" ? 0 : MYSQLI_CLIENT_SSL;
  $db->real_connect(getenv("DB_HOST"), $app["username"], $app["password"], getenv("DB_NAME"),
    (int) getenv("DB_PORT"), null, $flags);
  $update = $db->prepare("UPDATE users_secure SET password = ?, last_update_password = NOW() WHERE username = ?");
  $hash = password_hash($admin["password"], PASSWORD_DEFAULT);
  $update->bind_param("ss", $hash, $admin["username"]);
  $update->execute();
  if ($update->affected_rows !== 1) { fwrite(STDERR, "no OpenEMR user named " . $admin["username"] . "\\n"); exit(1); }
  echo "password updated for " . $admin["username"] . "\\n";'
`;
}

export async function rotateAdminPassword(ctx: Context): Promise<number> {
  const outputs = requireOutputs(ctx.outputs, "rotate-admin-password", ["adminPasswordSecretArn"]);
  // On ha any one node sets it: the nodes share OpenEMR's database.
  const instanceId = await commandHost(ctx, "rotate-admin-password");
  const current = await ctx.progress.step("reading the current admin secret", () =>
    readCredentials(ctx, outputs.adminPasswordSecretArn),
  );
  const pendingVersion = randomUUID();
  await ctx.progress.step("staging the new password (AWSPENDING)", () =>
    awsCall("Secrets Manager PutSecretValue", () =>
      ctx.aws.secrets.send(
        new PutSecretValueCommand({
          SecretId: outputs.adminPasswordSecretArn,
          ClientRequestToken: pendingVersion,
          SecretString: JSON.stringify({ username: current.credentials.username, password: generatePassword() }),
          VersionStages: ["AWSPENDING"],
        }),
      ),
    ),
  );
  const result = await ctx.progress.step("setting it in OpenEMR on the host", () =>
    runOnHost(ctx, {
      instanceId,
      purpose: "admin password rotation",
      script: setPasswordScript(pendingVersion),
      timeoutSeconds: 120,
    }),
  );
  if (result.exitCode !== 0) {
    const reason = result.stderr.trim().split("\n").pop() ?? `exit ${result.exitCode}`;
    emit(
      ctx,
      { command: "rotate-admin-password", ok: false, username: current.credentials.username },
      () => `Verdict: FAILED: OpenEMR was not updated (${reason}); the current password still works`,
    );
    return EXIT_FAILED;
  }
  await ctx.progress.step("making the new password current", () =>
    awsCall("Secrets Manager UpdateSecretVersionStage", () =>
      ctx.aws.secrets.send(
        new UpdateSecretVersionStageCommand({
          SecretId: outputs.adminPasswordSecretArn,
          VersionStage: "AWSCURRENT",
          MoveToVersionId: pendingVersion,
          RemoveFromVersionId: current.versionId,
        }),
      ),
    ),
  );
  emit(
    ctx,
    { command: "rotate-admin-password", ok: true, username: current.credentials.username },
    () =>
      `Verdict: OK: the password of ${current.credentials.username} was rotated; ` +
      "show it with `openemr-ops admin-password`",
  );
  return EXIT_OK;
}
