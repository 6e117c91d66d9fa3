// The stack's components, one concern each.
export * from "./keys";
export * from "./network";
export * from "./security-groups";
export * from "./database";
export * from "./host";
