// Backups signed the way an on-prem host signs them: the key an operator (or the bootstrap)
// makes, and the product's own sign_manifest, so a test that alters a copied backup can sign it
// again and reach the check it is about.

/** Shell that makes an on-prem host's backup signing key at KEY (EC P-256, root only). */
export function makeSigningKeyShell(key: string): string {
  return `(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ${key} 2>/dev/null)`;
}

/** Shell that signs ./manifest.json of backup ID with KEY into ./manifest.sig, as openemr-backup does. */
export function signManifestShell(id: string, key: string): string {
  return (
    `(OPENEMR_MODE=onprem BACKUP_SIGNING_KEY_FILE=${key} RUN_DIR=$(mktemp -d) && ` +
    `source /opt/openemr-aws/lib/backup-common.sh && sign_manifest ${id} manifest.json > manifest.sig)`
  );
}
