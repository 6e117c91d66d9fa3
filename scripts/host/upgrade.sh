#!/usr/bin/env bash
# Run on the host by `openemr-ops upgrade` through SSM, after a backup (and a DB snapshot).
# Inputs (prepended by the tool): FROM_VERSION, TO_VERSION; RELEASE_URL (empty: GitHub's release
# URL) and RELEASE_SHA256 (empty: the .sha256 published beside the release).
# Installs the new release beside the current code, carries sites/ over, swaps the two and
# runs OpenEMR's schema upgrade as www-data. The current code is kept as openemr.previous
# for the rollback. Prints `openemr-upgrade: code swapped` once the live code has changed.
set -euo pipefail
die() {
  echo "openemr-upgrade: $*" >&2
  exit 1
}
# The bundle's settings reader: settings.env is parsed, never sourced.
# shellcheck source=SCRIPTDIR/../../infra/host/lib/settings.sh
. /opt/openemr-aws/lib/settings.sh
read_settings_file
: "${FROM_VERSION:?}" "${TO_VERSION:?}"

code=/var/www/openemr
staging=/var/www/openemr.staging
previous=/var/www/openemr.previous
url=${RELEASE_URL:-https://github.com/openemr/openemr/releases/download/v${TO_VERSION//./_}/openemr-${TO_VERSION}.tar.gz}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "downloading $url"
curl -fsSL --retry 3 -o "$work/openemr.tar.gz" "$url"
expected=${RELEASE_SHA256:-$(curl -fsSL --retry 3 "$url.sha256" | awk '{print $1}')}
actual=$(sha256sum "$work/openemr.tar.gz" | awk '{print $1}')
if [ "$actual" != "$expected" ]; then
  die "release checksum mismatch: expected $expected, got $actual"
fi
echo "release verified: sha256 $actual"

rm -rf "$staging"
mkdir -p "$staging"
tar -xzf "$work/openemr.tar.gz" -C "$staging" --strip-components=1 --no-same-owner
if [ ! -f "$staging/index.php" ] || [ ! -f "$staging/sql_upgrade.php" ]; then
  die "the release has no index.php and sql_upgrade.php at its top level"
fi
rm -rf "$staging/sites" "$staging/contrib/util/installScripts"

# Nobody writes while sites/ is copied and the code and the schema change; Apache comes
# back whatever happens (after a failure, the rollback stops it again to put things back).
systemctl stop apache2
trap 'rm -rf "$work"; systemctl start apache2' EXIT
cp -a "$code/sites" "$staging/sites"
# The bootstrap's permissions: code read-only to www-data, the site's documents its own.
documents=$staging/sites/${OPENEMR_SITE:-default}/documents
chown -R root:www-data "$staging"
find "$staging" -path "$documents" -prune -o -type d -exec chmod 0750 {} +
find "$staging" -path "$documents" -prune -o -type f -exec chmod 0440 {} +
chown -R www-data:www-data "$documents"

rm -rf "$previous"
mv "$code" "$previous"
mv "$staging" "$code"
echo "openemr-upgrade: code swapped"

cd "$code"
upgrade_log=$(runuser -u www-data -- php sql_upgrade.php --from="$FROM_VERSION" 2>&1) || status=$?
echo "$upgrade_log"
# The setup scripts are removed after use, as after the install.
rm -f admin.php acl_upgrade.php setup.php sql_patch.php sql_upgrade.php ippf_upgrade.php
# OpenEMR's upgrade prints ERROR and may still exit 0: its output decides.
if [ "${status:-0}" -ne 0 ] || grep -q 'ERROR' <<<"$upgrade_log"; then
  die "sql_upgrade.php failed"
fi

# Where the bootstrap records the installed release: it refuses to run when this and
# settings.env disagree.
printf '%s\n' "$TO_VERSION" >/var/lib/openemr-aws/openemr.version
sed -i "s/^OPENEMR_VERSION=.*/OPENEMR_VERSION=$TO_VERSION/" "$OPENEMR_AWS_SETTINGS"
systemctl restart 'php*-fpm.service'
echo "openemr-upgrade: OK $FROM_VERSION -> $TO_VERSION"
