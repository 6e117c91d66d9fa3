// The default of each stack setting, read from config/schema.json: the stack's config takes its
// defaults from there (ajv applies them), and so does each component whose arg is left out, so a
// component used from another Pulumi program behaves as a stack that did not set that key.
import schema from "../config/schema.json";
import type { StackConfig } from "./config";

type SchemaProperties = typeof schema.properties;
/** The config keys the schema gives a default. */
export type KeyWithDefault = {
  [K in keyof SchemaProperties]: SchemaProperties[K] extends { default: unknown } ? K : never;
}[keyof SchemaProperties];

/** The schema's default of `key`, as a fresh copy (a caller may change an array or map it gets). */
export function configDefault<K extends KeyWithDefault & keyof StackConfig>(key: K): StackConfig[K] {
  return structuredClone((schema.properties[key] as { default: unknown }).default) as StackConfig[K];
}
