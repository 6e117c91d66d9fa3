// The CPU architecture of an EC2 instance type, from its family name: AWS Graviton families carry
// a `g` among the letters after the generation (t4g, m7g, m7gd, c7gn, r8g, x2gd, im4gn, is4gen,
// g5g, hpc7g), and a1 is the first Graviton. GPU families such as g5, g4dn or p5 start with the
// letter but are x86_64.
import schema from "../config/schema.json";
import type { Tier } from "./config";

export type Architecture = "x86_64" | "arm64";

export function instanceArchitecture(instanceType: string): Architecture {
  const family = instanceType.split(".")[0];
  if (family === "a1") return "arm64";
  const suffix = /^[a-z]+(?:-[a-z0-9]+)?\d+([a-z-]*)/.exec(family)?.[1] ?? "";
  return suffix.includes("g") ? "arm64" : "x86_64";
}

/** Debian's name for the architecture, as in its AMI names (`debian-13-arm64-...`) and packages. */
export function debianArchitecture(architecture: Architecture): "amd64" | "arm64" {
  return architecture === "arm64" ? "arm64" : "amd64";
}

/**
 * The stack's default instance type for a tier (config/schema.json: `default`, or the tier's entry
 * in `x-tier-defaults`): a host running MariaDB beside PHP-FPM (`single`) needs more memory.
 */
export function defaultInstanceType(tier: Tier): string {
  const property = schema.properties.instanceType as {
    default: string;
    "x-tier-defaults"?: Partial<Record<Tier, string>>;
  };
  return property["x-tier-defaults"]?.[tier] ?? property.default;
}
