// report.sarif: SARIF 2.1.0 for code-scanning UIs. One reporting descriptor per rule; one
// result per failing, waived (as a suppressed result) or undecidable resource. Passing and
// not-applicable results are counted in the run's properties, not listed.
import type { Log, ReportingDescriptor, Result } from "sarif";
import type { Severity } from "../rules/types";
import type { Report, ReportResult, ReportRule } from "./report";
import { formatCitation, formatEvidence } from "./markdown";

// GitHub code scanning ranks security results by this property (0.0 to 10.0).
const securitySeverity: Record<Severity, string> = { critical: "9.5", high: "8.0", medium: "5.5", low: "3.0" };

function toDescriptor(rule: ReportRule): ReportingDescriptor {
  return {
    id: rule.id,
    name: rule.id.replace(/(^|-)([a-z0-9])/g, (_match, _dash, letter: string) => letter.toUpperCase()),
    shortDescription: { text: rule.description },
    fullDescription: {
      text: `${rule.description} HIPAA Security Rule: 45 CFR ${rule.citations.map(formatCitation).join(", ")}.`,
    },
    help: {
      text: rule.remediation,
      markdown: `**Remediation:** ${rule.remediation}\n\n**45 CFR:** ${rule.citations.map(formatCitation).join(", ")}`,
    },
    defaultConfiguration: { level: rule.enforcement === "mandatory" ? "error" : "warning" },
    properties: {
      tags: ["security", "hipaa", rule.area],
      "security-severity": securitySeverity[rule.severity],
      severity: rule.severity,
      enforcement: rule.enforcement,
      citations: rule.citations,
    },
  };
}

function toResult(rule: ReportRule, ruleIndex: number, result: ReportResult, artifact: string): Result {
  const undecided = result.status === "unknown";
  const sarifResult: Result = {
    ruleId: rule.id,
    ruleIndex,
    // SARIF: a result whose kind is not `fail` has level `none`.
    kind: undecided ? "review" : "fail",
    level: undecided ? "none" : rule.enforcement === "mandatory" ? "error" : "warning",
    message: { text: result.message ?? result.reason ?? rule.description },
    locations: [
      {
        physicalLocation: { artifactLocation: { uri: artifact } },
        logicalLocations: [{ name: result.resource.name, fullyQualifiedName: result.resource.urn, kind: "resource" }],
      },
    ],
    partialFingerprints: { "pulumiUrn/v1": `${rule.id}|${result.resource.urn}` },
    properties: { resourceType: result.resource.type, evidence: formatEvidence(result.evidence) },
  };
  if (result.waiver) {
    sarifResult.suppressions = [{ kind: "external", status: "accepted", justification: result.waiver.justification }];
  }
  return sarifResult;
}

/** `artifact`: the file the results are reported against (the stack file, or Pulumi.yaml for defaults). */
export function renderSarif(report: Report, toolVersion: string, artifact: string): Log {
  const results = report.rules.flatMap((rule, ruleIndex) =>
    rule.results
      .filter((result) => result.status === "fail" || result.status === "waived" || result.status === "unknown")
      .map((result) => toResult(rule, ruleIndex, result, artifact)),
  );
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "openemr-aws-hipaa",
            version: toolVersion,
            informationUri: "https://www.hhs.gov/hipaa/for-professionals/security/index.html",
            rules: report.rules.map(toDescriptor),
          },
        },
        automationDetails: { id: `openemr-aws-audit/${report.stack.name}/` },
        invocations: [{ executionSuccessful: true, endTimeUtc: report.generatedAt }],
        results,
        properties: { result: report.result, tier: report.stack.tier, resultStatus: report.summary.resultStatus },
      },
    ],
  };
}
