export { iamNoAdmin } from "./iam-no-admin";
export { iamNoServiceWildcard } from "./iam-no-service-wildcard";
export { iamNoInlinePolicy } from "./iam-no-inline-policy";
export { iamTrustRestricted } from "./iam-trust-restricted";
export { iamNoKmsDecryptStar } from "./iam-no-kms-decrypt-star";
export { iamScopedWrites } from "./iam-scoped-writes";
export { hostRoleNoAwsManagedPolicies } from "./host-role-no-aws-managed-policies";
export { serviceTrustConfusedDeputy } from "./service-trust-confused-deputy";
