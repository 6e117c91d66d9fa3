export { vpcFlowLogs } from "./vpc-flow-logs";
export { vpcDefaultSgClosed } from "./vpc-default-sg-closed";
export { subnetNoAutoPublicIp } from "./subnet-no-auto-public-ip";
export { routeNoOpenIgw } from "./route-no-open-igw";
export { sgNoPublicSsh } from "./sg-no-public-ssh";
export { sgRestrictedCommonPorts } from "./sg-restricted-common-ports";
export { sgPublicOnlyOnAlb } from "./sg-public-only-on-alb";
export { vpcEndpointPolicies } from "./vpc-endpoint-policies";
