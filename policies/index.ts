// The policy pack `pulumi preview --policy-pack policies` loads. Constructing a PolicyPack
// starts the analyzer's gRPC server, so this file is the only place it is constructed; the
// rules, their mapping onto policies and the waivers live in modules tests can import.
import { PolicyPack } from "@pulumi/policy";
import { toPolicies } from "./engine";
import { allRules } from "./rules";
import { loadWaivers } from "./waivers";

new PolicyPack("openemr-aws-hipaa", {
  description:
    "HIPAA Security Rule controls for openemr-aws; each policy names its 45 CFR 164 citations (inferred ones marked).",
  provider: "aws",
  tags: ["hipaa", "aws", "openemr"],
  policies: toPolicies(allRules, loadWaivers()),
});
