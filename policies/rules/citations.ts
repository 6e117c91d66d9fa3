// The HIPAA Security Rule citations of the policy catalog, as data: the catalog's citation
// groups (45 CFR), and how a rule turns them into its citation list. A rule whose catalog row
// is marked (inf) cites the same sections with `inferred: true`, so reports can say so.
import type { Citation } from "./types";

/** A section of 45 CFR Part 164, as the regulation numbers it: `164.312(a)(1)`. */
export type CfrSection = `164.${string}`;

/**
 * The catalog's citation groups, each a named list of sections, so a rule spreads one in and
 * every argument of `cite` is a section: `cite(...sections.TLS, "164.312(c)(2)")`.
 */
export const sections = {
  ACC: ["164.308(a)(3)(i)", "164.308(a)(4)(ii)(A)", "164.308(a)(4)(ii)(C)", "164.312(a)(1)", "164.312(e)(1)"],
  SG: [
    "164.308(a)(3)(i)",
    "164.308(a)(4)(ii)(A)",
    "164.308(a)(4)(ii)(C)",
    "164.312(a)(1)",
    "164.312(e)(1)",
    "164.308(a)(3)(ii)(B)",
    "164.308(a)(4)(i)",
    "164.308(a)(4)(ii)(B)",
  ],
  IAM: [
    "164.308(a)(3)(i)",
    "164.308(a)(3)(ii)(A)",
    "164.308(a)(3)(ii)(B)",
    "164.308(a)(4)(i)",
    "164.308(a)(4)(ii)(A)",
    "164.308(a)(4)(ii)(B)",
    "164.308(a)(4)(ii)(C)",
    "164.312(a)(1)",
  ],
  ENC: ["164.312(a)(2)(iv)", "164.312(e)(2)(ii)"],
  TLS: ["164.312(a)(2)(iv)", "164.312(e)(2)(ii)", "164.312(e)(1)", "164.312(e)(2)(i)"],
  AUD: ["164.312(b)"],
  BAK: ["164.308(a)(7)(i)", "164.308(a)(7)(ii)(A)", "164.308(a)(7)(ii)(B)"],
  AVL: ["164.308(a)(7)(i)", "164.308(a)(7)(ii)(C)"],
} as const satisfies Record<string, readonly CfrSection[]>;

/** Citations taken from a published HIPAA mapping (cdk-nag, AWS Config's conformance pack). */
export function cite(...cited: CfrSection[]): Citation[] {
  return [...new Set(cited)].map((section) => ({ section, inferred: false }));
}

/** Citations inferred for this pack (the catalog's (inf)): shown as inferred in every report. */
export function citeInferred(...cited: CfrSection[]): Citation[] {
  return [...new Set(cited)].map((section) => ({ section, inferred: true }));
}
