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
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q awscli
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

log "fetching s3://$bucket/$key"
aws s3 cp --only-show-errors --region "$region" "s3://$bucket/$key" "$work/bundle.tar.gz"
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
