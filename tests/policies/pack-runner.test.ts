import { spawn, type ChildProcess } from "child_process";
import * as path from "path";
import { once } from "events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as grpc from "@grpc/grpc-js";
import { planStack } from "../../infra/plan/plan";
import { toRuleResources } from "../../policies/engine";
import { allRules } from "../../policies/rules";
import { loadWaivers } from "../../policies/waivers";

// The analyzer protocol, as the Pulumi engine speaks it to a policy pack.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const analyzerRpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const analyzerProto = require("@pulumi/pulumi/proto/analyzer_pb");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Struct } = require("google-protobuf/google/protobuf/struct_pb");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Empty } = require("google-protobuf/google/protobuf/empty_pb");

const root = path.resolve(__dirname, "../..");
const MANDATORY = analyzerProto.EnforcementLevel.MANDATORY;

/** A protobuf Struct of plain JSON (the engine sends no undefined values). */
function struct(value: Record<string, unknown>) {
  return Struct.fromJavaScript(JSON.parse(JSON.stringify(value)));
}

let pack: ChildProcess;
let client: any;

/** Calls one unary analyzer method and resolves with its response. */
function call<T>(method: string, request: unknown): Promise<T> {
  return new Promise((resolve, reject) =>
    client[method](request, (error: Error | null, response: T) => (error ? reject(error) : resolve(response))),
  );
}

beforeAll(async () => {
  // What `pulumi preview --policy-pack policies` starts: Pulumi's Node.js policy-pack runner,
  // in the pack's directory, loading index.ts through type-checking ts-node.
  pack = spawn(
    process.execPath,
    [path.join(root, "node_modules/@pulumi/pulumi/cmd/run-policy-pack"), "127.0.0.1:0", "."],
    { cwd: path.join(root, "policies"), stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  pack.stderr!.on("data", (chunk) => (stderr += chunk));
  const exited = once(pack, "exit").then(([code]) => {
    throw new Error(`the policy pack exited (${code}) before serving: ${stderr}`);
  });
  const [chunk] = (await Promise.race([once(pack.stdout!, "data"), exited])) as [Buffer];
  const port = Number(chunk.toString().trim().split("\n")[0]);
  client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 120_000);

afterAll(() => {
  client?.close();
  if (pack && pack.exitCode === null) pack.kill();
});

describe("the pack under Pulumi's policy-pack runner", () => {
  it("loads and lists one policy per rule with its enforcement", async () => {
    const info = await call<any>("getAnalyzerInfo", new Empty());
    expect(info.getName()).toBe("openemr-aws-hipaa");
    const policies = info.getPoliciesList();
    expect(policies.map((policy: any) => policy.getName())).toEqual(allRules.map((rule) => rule.id));
    const retention = policies.find((policy: any) => policy.getName() === "log-group-retention");
    expect(retention.getEnforcementlevel()).toBe(MANDATORY);
  });

  it("reports a violation, with the rule's message, for a non-compliant resource", async () => {
    const options = new analyzerProto.AnalyzerResourceOptions();
    const request = new analyzerProto.AnalyzeRequest();
    request.setType("aws:cloudwatch/logGroup:LogGroup");
    request.setName("app-logs");
    request.setUrn("urn:pulumi:prod::openemr-aws::aws:cloudwatch/logGroup:LogGroup::app-logs");
    request.setProperties(Struct.fromJavaScript({ retentionInDays: 30 }));
    request.setOptions(options);
    const response = await call<any>("analyze", request);
    const diagnostics = response.getDiagnosticsList().map((diagnostic: any) => ({
      policy: diagnostic.getPolicyname(),
      message: diagnostic.getMessage(),
      level: diagnostic.getEnforcementlevel(),
    }));
    expect(diagnostics).toEqual(
      expect.arrayContaining([
        { policy: "log-group-retention", message: expect.stringContaining("retentionInDays"), level: MANDATORY },
      ]),
    );
    expect(
      diagnostics.every(
        (diagnostic: { policy: string }) => allRules.find((rule) => rule.id === diagnostic.policy)?.kind === "resource",
      ),
    ).toBe(true);
  });

  it("the planned default stack passes its stack policies, with the committed waiver honoured", async () => {
    const run = await planStack({});
    const resources = toRuleResources(run).map((resource) => {
      const analyzed = new analyzerProto.AnalyzerResource();
      analyzed.setType(resource.type);
      analyzed.setUrn(resource.urn);
      analyzed.setName(resource.name);
      // Stack policies see each resource's outputs.
      analyzed.setProperties(struct(resource.outputs ?? resource.props));
      analyzed.setOptions(new analyzerProto.AnalyzerResourceOptions());
      if (resource.provider) {
        const provider = new analyzerProto.AnalyzerProviderResource();
        provider.setType(resource.provider.type);
        provider.setUrn(resource.provider.urn);
        provider.setName(resource.provider.name);
        provider.setProperties(struct(resource.provider.props));
        analyzed.setProvider(provider);
      }
      return analyzed;
    });
    const request = new analyzerProto.AnalyzeStackRequest();
    request.setResourcesList(resources);
    const response = await call<any>("analyzeStack", request);
    const diagnostics = response.getDiagnosticsList().map((diagnostic: any) => ({
      policy: diagnostic.getPolicyname(),
      urn: diagnostic.getUrn(),
      level: diagnostic.getEnforcementlevel(),
      message: diagnostic.getMessage(),
    }));
    expect(diagnostics.filter((diagnostic: { level: number }) => diagnostic.level === MANDATORY)).toEqual([]);
    // Advisory stack findings still come through: the stack policies did run.
    expect(diagnostics.map((diagnostic: { policy: string }) => diagnostic.policy)).toContain("s3-replication");
    const [waiver] = loadWaivers();
    expect(
      diagnostics.filter(
        (diagnostic: { policy: string; urn: string }) =>
          diagnostic.policy === waiver.rule && diagnostic.urn.endsWith(`::${waiver.resource}`),
      ),
    ).toEqual([]);
  }, 120_000);
});
