// The Pulumi program Pulumi.yaml names: validate the `openemr:` config before declaring any
// resource, then declare the stack; the module's exports are the stack outputs.
import { readStackConfig } from "./config";
import { createStack } from "./stack";

export = createStack(readStackConfig());
