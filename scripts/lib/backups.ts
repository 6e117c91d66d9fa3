// The logical backups in the bucket, as docs/host-interface.md lays them out:
// `<prefix>/<id>/{db.sql.zst, sites.tar.zst, manifest.json}`, `id` the UTC start time, and a
// folder without manifest.json an incomplete backup.
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type _Object } from "@aws-sdk/client-s3";
import { awsCall, OpsError } from "./errors";
import type { Context } from "./context";

export interface BackupManifest {
  format: number;
  id: string;
  stack: string;
  site: string;
  started_at: string;
  finished_at: string;
  duration_seconds: number;
  openemr_version: string;
  db_server_version: string;
  database: string;
  parts: { name: string; bytes: number; sha256: string }[];
  tables: Record<string, number>;
}

export interface StoredBackup {
  id: string;
  startedAt: Date;
  /** Sum of the folder's objects. */
  bytes: number;
  /** manifest.json is present (it is written last). */
  complete: boolean;
  /** Object name -> size, as stored. */
  objects: Record<string, number>;
}

/** The start time a backup id encodes, or undefined for an id not of that shape. */
export function backupIdTime(id: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(id);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match;
  return new Date(Date.UTC(+year, +month - 1, +day, +hour, +minute, +second));
}

export function ageHours(since: Date, now = new Date()): number {
  return (now.getTime() - since.getTime()) / 3_600_000;
}

/** Every backup folder under the prefix, newest first. */
export async function listStoredBackups(ctx: Context, bucket: string, prefix: string): Promise<StoredBackup[]> {
  const root = `${prefix.replace(/\/+$/, "")}/`;
  const objects: _Object[] = [];
  let token: string | undefined;
  do {
    const page = await awsCall("S3 ListObjectsV2", () =>
      ctx.aws.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: root, ContinuationToken: token })),
    );
    objects.push(...(page.Contents ?? []));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);

  const byId = new Map<string, StoredBackup>();
  for (const object of objects) {
    const [id, name] = (object.Key ?? "").slice(root.length).split("/");
    const startedAt = backupIdTime(id);
    if (!startedAt || !name) continue;
    const backup = byId.get(id) ?? { id, startedAt, bytes: 0, complete: false, objects: {} };
    backup.objects[name] = object.Size ?? 0;
    backup.bytes += object.Size ?? 0;
    backup.complete ||= name === "manifest.json";
    byId.set(id, backup);
  }
  return [...byId.values()].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
}

export function manifestKey(prefix: string, id: string): string {
  return `${prefix.replace(/\/+$/, "")}/${id}/manifest.json`;
}

export async function readManifest(ctx: Context, bucket: string, prefix: string, id: string): Promise<BackupManifest> {
  const key = manifestKey(prefix, id);
  const object = await awsCall("S3 GetObject", () =>
    ctx.aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
  );
  const text = (await object.Body?.transformToString()) ?? "";
  try {
    const manifest = JSON.parse(text) as BackupManifest;
    if (manifest.id !== id || !Array.isArray(manifest.parts)) throw new Error("shape");
    return manifest;
  } catch {
    throw new OpsError(`backup ${id}: s3://${bucket}/${key} is not a valid manifest (format 1 with id and parts)`);
  }
}

/** The server-side encryption of a backup object, e.g. `aws:kms`, or `none`. */
export async function objectEncryption(ctx: Context, bucket: string, key: string): Promise<string> {
  const head = await awsCall("S3 HeadObject", () =>
    ctx.aws.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
  );
  return head.ServerSideEncryption ?? "none";
}

/**
 * Whether the stored objects are the ones the manifest describes: each part present with
 * the manifest's size. Checksums are verified on the host, by the restore and the drill.
 */
export function verifyAgainstManifest(backup: StoredBackup, manifest: BackupManifest): string[] {
  return manifest.parts
    .filter((part) => backup.objects[part.name] !== part.bytes)
    .map((part) =>
      part.name in backup.objects
        ? `${part.name} is ${backup.objects[part.name]} bytes, manifest says ${part.bytes}`
        : `${part.name} is missing`,
    );
}

/** Backup age thresholds: the timer runs daily, so a day and a bit is normal. */
export const BACKUP_AGE_WARN_HOURS = 26;
export const BACKUP_AGE_CRIT_HOURS = 36;
