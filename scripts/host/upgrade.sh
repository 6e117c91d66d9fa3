#!/usr/bin/env bash
# Run on the host by `openemr-ops upgrade` through SSM, after a backup (and a DB snapshot).
# Inputs (prepended by the tool): FROM_VERSION, TO_VERSION; RELEASE_URL (empty: GitHub's release
# URL) and RELEASE_SHA256 (empty: the .sha256 published beside the release).
# Installs the new release beside the current code with the bootstrap's own steps (lib/release.sh),
# carries sites/ over, swaps the two and runs OpenEMR's schema upgrade as www-data. The current
# code is kept as openemr.previous for the rollback. Prints `openemr-upgrade: code swapped` on
# standard output once the live code has changed: the ops tool reads it.
set -euo pipefail
PROG=openemr-upgrade
# shellcheck source=SCRIPTDIR/../../infra/host/lib/common.sh
. /opt/openemr-aws/lib/common.sh
# shellcheck source=SCRIPTDIR/../../infra/host/lib/verify.sh
. /opt/openemr-aws/lib/verify.sh
# shellcheck source=SCRIPTDIR/../../infra/host/lib/release.sh
. /opt/openemr-aws/lib/release.sh
read_settings_file
: "${FROM_VERSION:?}" "${TO_VERSION:?}"
OPENEMR_SITE=${OPENEMR_SITE:-default}

code=$OPENEMR_WEB_ROOT
previous=$OPENEMR_WEB_ROOT.previous
RUN_DIR=$(mktemp -d)
trap 'rm -rf "$RUN_DIR"' EXIT

download_release "$TO_VERSION" "$(release_url "$TO_VERSION" "${RELEASE_URL:-}")" "${RELEASE_SHA256:-}"
unpack_release "$RELEASE_TARBALL" "$TO_VERSION" sql_upgrade.php
staged=$RELEASE_DIR
rm -rf "$staged/sites" "$staged/contrib/util/installScripts"

# Nobody writes while sites/ is copied and the code and the schema change; Apache comes
# back whatever happens (after a failure, the rollback stops it again to put things back).
systemctl stop apache2
trap 'rm -rf "$RUN_DIR" "$RELEASE_STAGING"; systemctl start apache2' EXIT
cp -a "$code/sites" "$staged/sites"
lock_down_code "$staged"

rm -rf "$previous"
mv "$code" "$previous"
mv "$staged" "$code"
echo "openemr-upgrade: code swapped"

upgrade_database_schema "$FROM_VERSION" "$code"

record_installed_version "$TO_VERSION"
systemctl restart 'php*-fpm.service'
echo "openemr-upgrade: OK $FROM_VERSION -> $TO_VERSION"
