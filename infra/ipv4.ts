// IPv4 arithmetic, shared by the config checks and the subnet plan. An address is a whole number
// below 2^32 and a CIDR block a multiple of its size, so a few lines of arithmetic do what a CIDR
// library would, without a dependency.

/** `10.40.0.1` -> 170393601. */
export function ipv4ToNumber(address: string): number {
  return address.split(".").reduce((total, octet) => total * 256 + Number(octet), 0);
}

/** 170393601 -> `10.40.0.1`. */
export function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** Addresses in a block of prefix length `prefix`. */
export function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

/** `10.40.0.0/16` -> its address as a number and its prefix length. */
export function parseCidr(cidr: string): { base: number; prefix: number } {
  const [address, prefix] = cidr.split("/");
  return { base: ipv4ToNumber(address), prefix: Number(prefix) };
}

/** The canonical form of a CIDR (host bits cleared); AWS rejects CIDRs with host bits set. */
export function canonicalCidr(cidr: string): string {
  const { base, prefix } = parseCidr(cidr);
  const size = blockSize(prefix);
  return `${numberToIpv4(Math.floor(base / size) * size)}/${prefix}`;
}

/** Whether every address of `inner` lies in `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
  const outerBlock = parseCidr(outer);
  const innerBlock = parseCidr(inner);
  const size = blockSize(outerBlock.prefix);
  return (
    innerBlock.prefix >= outerBlock.prefix && Math.floor(innerBlock.base / size) === Math.floor(outerBlock.base / size)
  );
}
