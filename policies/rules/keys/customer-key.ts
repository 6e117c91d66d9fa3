// What counts as "a customer managed key" in a declaration: a key id, key ARN or alias that is
// set and is not one of the AWS managed `alias/aws/...` keys.
export function isCustomerKey(keyId: unknown): boolean {
  return typeof keyId === "string" && keyId.trim() !== "" && !/(^|:)alias\/aws\//.test(keyId);
}
