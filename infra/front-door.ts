// What a clinic should know about its front door before and after a deploy: where the
// certificate comes from, who may reach the load balancer, and whether it signs users in. The
// plan prints it from the stack's outputs, `openemr-ops provision` from the stack file, in the
// same words; a choice that leaves the door wide (a self-signed certificate, the whole internet
// with no sign-in) is a WARN, said in capitals where it matters.
import { certificateKindFor, MANUAL_VALIDATION_WAIT_MINUTES, type CertificateKind } from "./components/edge";

export type SignIn = "none" | "cognito" | "oidc";

export interface FrontDoor {
  certificateKind: CertificateKind;
  allowedCidrs: string[];
  authentication: SignIn;
}

export interface FrontDoorNotice {
  level: "WARN" | "NOTE";
  /** What the notice is about: certificate, clients or sign-in. */
  topic: "certificate" | "clients" | "sign-in";
  text: string;
}

const WORLD = ["0.0.0.0/0", "::/0"];

/** The front door a stack's config asks for (the same decision the Edge component makes). */
export function frontDoorOf(config: {
  domain?: string;
  hostedZoneId?: string;
  certificateArn?: string;
  allowedCidrs: string[];
  authentication: { type: SignIn };
}): FrontDoor {
  return {
    certificateKind: certificateKindFor({ ...config, certificateArn: config.certificateArn || undefined }),
    allowedCidrs: config.allowedCidrs,
    authentication: config.authentication.type,
  };
}

/** The front door a deployed (or planned) stack reports in its outputs, if it reports one. */
export function frontDoorFromOutputs(outputs: Record<string, unknown>): FrontDoor | undefined {
  const { certificateKind, allowedCidrs, loadBalancerAuthentication } = outputs;
  if (typeof certificateKind !== "string" || !Array.isArray(allowedCidrs)) return undefined;
  return {
    certificateKind: certificateKind as CertificateKind,
    allowedCidrs: allowedCidrs.map(String),
    authentication: (loadBalancerAuthentication ?? "none") as SignIn,
  };
}

const signInTexts: Record<SignIn, string> = {
  none: "none at the load balancer: OpenEMR's own login is the only one.",
  cognito: "at the load balancer, with a Cognito user pool the stack creates (MFA required), then OpenEMR's own login.",
  oidc: "at the load balancer, with the clinic's OpenID Connect provider, then OpenEMR's own login.",
};

export function frontDoorNotices(door: FrontDoor): FrontDoorNotice[] {
  const notices: FrontDoorNotice[] = [];
  const certificate = (level: FrontDoorNotice["level"], text: string) =>
    notices.push({ level, topic: "certificate", text });
  switch (door.certificateKind) {
    case "self-signed":
      certificate(
        "WARN",
        "SELF-SIGNED CERTIFICATE, FOR A FIRST TRIAL ONLY: browsers warn on every visit and users cannot tell " +
          "this site from an impostor. Before clinical use set openemr:domain (with openemr:hostedZoneId, or " +
          "openemr:certificateArn, or add the validation record ACM asks for).",
      );
      break;
    case "acm-dns-manual":
      certificate(
        "NOTE",
        "ACM certificate validated by a DNS record you add at your DNS provider: provision prints it (stack " +
          `output certificateValidationRecords) and pulumi up waits up to ${MANUAL_VALIDATION_WAIT_MINUTES} ` +
          "minutes for ACM to issue it.",
      );
      break;
    case "acm-dns-validated":
      certificate("NOTE", "ACM certificate validated through the Route 53 zone (openemr:hostedZoneId).");
      break;
    case "acm-existing":
      certificate("NOTE", "the ACM certificate openemr:certificateArn names.");
  }
  const world = door.allowedCidrs.filter((cidr) => WORLD.includes(cidr));
  if (world.length && door.authentication === "none")
    notices.push({
      level: "WARN",
      topic: "clients",
      text:
        `openemr:allowedCidrs is ${world.join(", ")}: THE WHOLE INTERNET reaches OpenEMR's login page (behind ` +
        "the WAF), with no sign-in at the load balancer; narrow openemr:allowedCidrs to the clinic's networks " +
        "or set openemr:authentication (the audit reports alb-open-without-auth).",
    });
  else
    notices.push({
      level: "NOTE",
      topic: "clients",
      text: world.length
        ? `openemr:allowedCidrs is ${world.join(", ")} (the whole internet), behind sign-in at the load balancer.`
        : `only ${door.allowedCidrs.join(", ")} (openemr:allowedCidrs) reach the load balancer.`,
    });
  notices.push({
    level: "NOTE",
    topic: "sign-in",
    text: signInTexts[door.authentication],
  });
  return notices;
}

/** The notices as a block of text lines, WARN first. */
export function formatFrontDoor(door: FrontDoor): string {
  const notices = frontDoorNotices(door).sort((a, b) => (a.level === b.level ? 0 : a.level === "WARN" ? -1 : 1));
  return [
    "Front door:",
    ...notices.map((notice) => `  ${notice.level.padEnd(4)}  ${notice.topic}: ${notice.text}`),
  ].join("\n");
}
