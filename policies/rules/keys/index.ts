export { kmsRotation } from "./kms-rotation";
export { kmsDeletionWindow } from "./kms-deletion-window";
export { kmsPolicyNoWildcard } from "./kms-policy-no-wildcard";
export { kmsKeyAdminSeparated } from "./kms-key-admin-separated";
