#!/usr/bin/env bash
# Run on the host by `openemr-ops upgrade` when its health gate fails. Inputs (prepended by
# the tool): FROM_VERSION and BACKUP_ID, the pre-upgrade backup. Puts the previous code back
# and restores the pre-upgrade backup into the live database and sites/.
set -euo pipefail
die() {
  echo "openemr-rollback: $*" >&2
  exit 1
}
# The bundle's settings reader: settings.env is parsed, never sourced.
# shellcheck source=SCRIPTDIR/../../infra/host/lib/settings.sh
. /opt/openemr-aws/lib/settings.sh
read_settings_file
: "${FROM_VERSION:?}" "${BACKUP_ID:?}"

code=/var/www/openemr
previous=/var/www/openemr.previous

systemctl stop apache2 || true
if [ -d "$previous" ]; then
  rm -rf "$code.failed"
  if [ -d "$code" ]; then mv "$code" "$code.failed"; fi
  mv "$previous" "$code"
  echo "openemr-rollback: previous code back in place"
fi
/opt/openemr-aws/bin/openemr-restore --backup "$BACKUP_ID" --database "$DB_NAME" --sites-dir "$code/sites" --yes
printf '%s\n' "$FROM_VERSION" >/var/lib/openemr-aws/openemr.version
sed -i "s/^OPENEMR_VERSION=.*/OPENEMR_VERSION=$FROM_VERSION/" "$OPENEMR_AWS_SETTINGS"
systemctl restart 'php*-fpm.service'
systemctl start apache2
echo "openemr-rollback: OK back at $FROM_VERSION with backup $BACKUP_ID"
