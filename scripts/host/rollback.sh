#!/usr/bin/env bash
# Run on the host by `openemr-ops upgrade` when its health gate fails. Inputs (prepended by
# the tool): FROM_VERSION and BACKUP_ID, the pre-upgrade backup. Puts the previous code back
# and restores the pre-upgrade backup into the live database and sites/.
set -euo pipefail
PROG=openemr-rollback
# shellcheck source=SCRIPTDIR/../../infra/host/lib/common.sh
. /opt/openemr-aws/lib/common.sh
# shellcheck source=SCRIPTDIR/../../infra/host/lib/release.sh
. /opt/openemr-aws/lib/release.sh
read_settings_file
: "${FROM_VERSION:?}" "${BACKUP_ID:?}"

code=$OPENEMR_WEB_ROOT
previous=$OPENEMR_WEB_ROOT.previous
RUN_DIR=$(mktemp -d)
trap 'rm -rf "$RUN_DIR"' EXIT

systemctl stop apache2 || true
if [ -d "$previous" ]; then
  rm -rf "$code.failed"
  if [ -d "$code" ]; then mv "$code" "$code.failed"; fi
  mv "$previous" "$code"
  echo "openemr-rollback: previous code back in place"
fi
/opt/openemr-aws/bin/openemr-restore --backup "$BACKUP_ID" --database "$DB_NAME" --sites-dir "$code/sites" --yes
record_installed_version "$FROM_VERSION"
systemctl restart 'php*-fpm.service'
systemctl start apache2
echo "openemr-rollback: OK back at $FROM_VERSION with backup $BACKUP_ID"
