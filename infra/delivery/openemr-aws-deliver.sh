#!/bin/bash
# Delivers the host bundle and runs the bootstrap: fetch the bundle from S3, check its
# sha256, unpack it beside the previous one and switch /opt/openemr-aws to it in one rename,
# then run /opt/openemr-aws/bin/openemr-bootstrap. Run by cloud-init on first boot and by
# the stack's SSM document afterwards; running it again with the same bundle is harmless.
set -euo pipefail

usage() {
  echo "usage: openemr-aws-deliver BUCKET KEY SHA256" >&2
  exit 2
}

[ "$#" -eq 3 ] || usage
bucket=$1
key=$2
expected_sha256=$3
[[ $expected_sha256 =~ ^[0-9a-f]{64}$ ]] || {
  echo "openemr-aws-deliver: SHA256 must be 64 lower-case hex digits, got '$expected_sha256'" >&2
  exit 2
}

settings=/etc/openemr-aws/settings.env
releases=/opt/openemr-aws-releases
current=/opt/openemr-aws

log() { echo "openemr-aws-deliver: $*"; }

# First boot may come before the network is whole (the NAT route, the S3 endpoint): a step that
# needs it is tried again with a doubling pause, bounded, and each failure is logged. cloud-init
# runs this once, so giving up early would leave a host that never bootstraps.
DELIVER_ATTEMPTS=${DELIVER_ATTEMPTS:-8}
DELIVER_FIRST_PAUSE=${DELIVER_FIRST_PAUSE:-5}
retry() {
  local what=$1 attempt=1 pause=$DELIVER_FIRST_PAUSE
  shift
  until "$@"; do
    if ((attempt >= DELIVER_ATTEMPTS)); then
      echo "openemr-aws-deliver: $what failed $attempt times; giving up" >&2
      return 1
    fi
    log "$what failed (attempt $attempt of $DELIVER_ATTEMPTS); trying again in ${pause}s"
    sleep "$pause"
    attempt=$((attempt + 1))
    pause=$((pause * 2 > 60 ? 60 : pause * 2))
  done
}

region=$(sed -n 's/^AWS_REGION=//p' "$settings")
[ -n "$region" ] || {
  echo "openemr-aws-deliver: AWS_REGION missing from $settings" >&2
  exit 1
}

# Package downloads over HTTPS: the host's only egress is 443.
for sources in /etc/apt/mirrors/*.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list; do
  if [ -f "$sources" ]; then
    sed -i 's#http://#https://#g' "$sources"
  fi
done

if ! command -v aws >/dev/null; then
  log "installing awscli"
  retry "apt-get update" apt-get update -q
  retry "installing awscli" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q awscli
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

log "fetching s3://$bucket/$key"
retry "fetching the bundle" aws s3 cp --only-show-errors --region "$region" "s3://$bucket/$key" "$work/bundle.tar.gz"
actual_sha256=$(sha256sum "$work/bundle.tar.gz" | cut -d' ' -f1)
if [ "$actual_sha256" != "$expected_sha256" ]; then
  echo "openemr-aws-deliver: bundle sha256 is $actual_sha256, expected $expected_sha256; not installing it" >&2
  exit 1
fi

release="$releases/$expected_sha256"
if [ ! -d "$release" ]; then
  install -d -m 0755 "$releases"
  staging=$(mktemp -d "$releases/.staging.XXXXXX")
  tar -xzf "$work/bundle.tar.gz" -C "$staging" --no-same-owner
  chmod 0755 "$staging"
  mv -T "$staging" "$release"
fi

# A symlink renamed over the old one: readers see the old bundle or the new, never a mix.
ln -sfn "$release" "$current.next"
mv -T "$current.next" "$current"
find "$releases" -mindepth 1 -maxdepth 1 -type d ! -path "$release" -exec rm -rf {} +
log "bundle $expected_sha256 installed at $current"

exec "$current/bin/openemr-bootstrap"
