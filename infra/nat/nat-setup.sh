#!/usr/bin/env bash
# The NAT instance's first boot (cloud-init runs it with the region): forwarding on, the packet
# filter of /etc/nftables.conf loaded, SSH off, unattended security upgrades, and the SSM agent
# (its package checked against AWS's pinned signing key first), so the instance is patched by
# itself and reached only through Session Manager. Running it again changes nothing.
set -euo pipefail

REGION=$1
SSM_KEY=/etc/openemr-aws/amazon-ssm-agent.asc
# AWS's published fingerprint of the SSM agent's signing key (the host bootstrap pins the same).
SSM_KEY_FINGERPRINT=DE92C7DA3E56E92331D62A36BC1F495C97DD04ED

log() { printf 'openemr-nat-setup: %s\n' "$*" >&2; }

# The first boot can run before the instance's public address works: retry, bounded.
with_retries() {
  local attempt
  for attempt in 1 2 3 4 5 6; do
    "$@" && return 0
    log "attempt $attempt of '$*' failed; retrying in $((attempt * 10)) s"
    sleep $((attempt * 10))
  done
  return 1
}

sysctl --quiet --system
with_retries apt-get update
DEBIAN_FRONTEND=noninteractive with_retries apt-get install -y --no-install-recommends nftables unattended-upgrades gnupg curl
systemctl enable nftables.service
systemctl restart nftables.service
systemctl disable --now ssh.service ssh.socket 2>/dev/null || true

if ! dpkg-query -W amazon-ssm-agent >/dev/null 2>&1; then
  architecture=$(dpkg --print-architecture)
  work=$(mktemp -d)
  url="https://s3.$REGION.amazonaws.com/amazon-ssm-$REGION/latest/debian_$architecture/amazon-ssm-agent.deb"
  with_retries curl --fail --silent --show-error --location --proto '=https' --output "$work/ssm.deb" "$url"
  with_retries curl --fail --silent --show-error --location --proto '=https' --output "$work/ssm.deb.sig" "$url.sig"
  export GNUPGHOME=$work/gnupg
  install -d -m 0700 "$GNUPGHOME"
  actual=$(gpg --batch --with-colons --show-keys "$SSM_KEY" 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }')
  [[ $actual == "$SSM_KEY_FINGERPRINT" ]] || {
    log "SSM agent key has fingerprint ${actual:-none}; expected $SSM_KEY_FINGERPRINT"
    exit 1
  }
  gpg --batch --quiet --import "$SSM_KEY"
  gpg --batch --quiet --verify "$work/ssm.deb.sig" "$work/ssm.deb" || {
    log "bad signature on the SSM agent package from $url"
    exit 1
  }
  DEBIAN_FRONTEND=noninteractive apt-get install -y "$work/ssm.deb"
  rm -rf "$work"
fi
systemctl enable --now amazon-ssm-agent.service
log "forwarding HTTPS from the VPC; SSM agent running"
