// The host bundle: `infra/host/` as a gzipped tarball whose bytes depend only on the files'
// paths, contents and executable bits, so its sha256 names the bundle and changes exactly
// when a host file does.
import { createHash } from "crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { dirname, join, relative } from "path";
import * as tar from "tar";

export interface HostBundle {
  /** The gzipped tarball. */
  content: Buffer;
  /** Hex sha256 of `content`. */
  sha256: string;
  /** Object key in the backup bucket: `host-bundle/<sha256>.tar.gz`. */
  key: string;
}

/**
 * The checkout this program runs from: the nearest directory up with Pulumi.yaml. Found rather
 * than assumed, because the offline plan runs a compiled copy of this module from bin/.
 */
export function projectRoot(from: string = __dirname): string {
  for (let directory = from; directory !== dirname(directory); directory = dirname(directory)) {
    if (existsSync(join(directory, "Pulumi.yaml"))) return directory;
  }
  throw new Error(`no Pulumi.yaml in ${from} or any directory above it`);
}

/** The directory the bundle is built from. */
export const hostDirectory = join(projectRoot(), "infra", "host");

// Fixed entry time: a checkout's file times vary from clone to clone.
const entryTime = new Date("2000-01-01T00:00:00Z");

/** Every directory and file under `root`, as sorted relative paths (the archive's order). */
function sortedEntries(root: string): string[] {
  const entries: string[] = [];
  const walk = (directory: string) => {
    for (const dirent of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, dirent.name);
      entries.push(relative(root, path));
      if (dirent.isDirectory()) walk(path);
    }
  };
  walk(root);
  return entries.sort();
}

export function buildHostBundle(directory: string = hostDirectory): HostBundle {
  const scratch = mkdtempSync(join(tmpdir(), "openemr-aws-bundle-"));
  try {
    const file = join(scratch, "bundle.tar.gz");
    tar.create(
      {
        file,
        cwd: directory,
        sync: true,
        gzip: { level: 9 },
        portable: true,
        mtime: entryTime,
        noDirRecurse: true,
        // Permissions as git keeps them: executable or not. The umask of a checkout varies.
        onWriteEntry: (entry) => {
          if (!entry.stat) return;
          const executable = entry.type === "Directory" || (entry.stat.mode & 0o111) !== 0;
          entry.stat.mode = (entry.stat.mode & ~0o7777) | (executable ? 0o755 : 0o644);
        },
      },
      sortedEntries(directory),
    );
    const content = readFileSync(file);
    const sha256 = createHash("sha256").update(content).digest("hex");
    return { content, sha256, key: `host-bundle/${sha256}.tar.gz` };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
