// The stack's components, one concern each.
export * from "./keys";
export * from "./network";
export * from "./security-groups";
export * from "./database";
export * from "./database-users";
export * from "./host";
export * from "./secure-bucket";
export * from "./backups";
export * from "./edge";
export * from "./monitoring";
export * from "./audit";
export * from "./detection";
export * from "./ha";
