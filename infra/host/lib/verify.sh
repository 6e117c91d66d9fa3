# shellcheck shell=bash
# Download verification: sha256 and OpenPGP signatures. Sourced, never run.

# Prints the sha256 of FILE.
sha256_of() {
  sha256sum "$1" | cut -d' ' -f1
}

# Succeeds when FILE's sha256 is EXPECTED; otherwise says both.
verify_sha256() {
  local file=$1 expected=$2 actual
  actual=$(sha256_of "$file")
  [[ $actual == "$expected" ]] || {
    printf 'sha256 mismatch for %s: expected %s, got %s\n' "${file##*/}" "$expected" "$actual" >&2
    return 1
  }
}

# Succeeds when SIGNATURE is a good detached signature of FILE made by the key in KEYFILE and
# that key's fingerprint is FINGERPRINT (40 hex digits): a key swapped on the download server
# is refused even if it signed the file.
verify_signature() {
  local file=$1 signature=$2 keyfile=$3 fingerprint=$4 home actual
  home=$(mktemp -d)
  actual=$(gpg --homedir "$home" --batch --with-colons --show-keys "$keyfile" 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')
  if [[ ${actual^^} != "${fingerprint^^}" ]]; then
    rm -rf "$home"
    printf 'signing key %s has fingerprint %s; expected %s\n' "${keyfile##*/}" "${actual:-none}" "$fingerprint" >&2
    return 1
  fi
  gpg --homedir "$home" --batch --quiet --dearmor --output "$home/keyring.gpg" "$keyfile" 2>/dev/null ||
    cp "$keyfile" "$home/keyring.gpg"
  if ! gpgv --keyring "$home/keyring.gpg" "$signature" "$file" 2>"$home/gpgv.out"; then
    printf 'bad signature on %s: %s\n' "${file##*/}" "$(tr '\n' ' ' <"$home/gpgv.out")" >&2
    rm -rf "$home"
    return 1
  fi
  rm -rf "$home"
}
