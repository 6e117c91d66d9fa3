#!/usr/bin/env bash
# Run on the host by `openemr-ops health` through SSM (AWS-RunShellScript). Prints one line,
# `OPENEMR-HEALTH <json>`; free-form command output travels base64-encoded so the JSON stays valid.
set -u
PROG=openemr-health
# The bundle's library: settings.env is parsed, never sourced.
# shellcheck source=SCRIPTDIR/../../infra/host/lib/common.sh
. /opt/openemr-aws/lib/common.sh
read_settings_file
tier=${OPENEMR_TIER:-standard}

state() { systemctl is-active "$1" 2>/dev/null | head -n 1; }
b64() { printf '%s' "$1" | tail -c 2000 | base64 -w 0; }

apache=$(state apache2)
fpm_unit=$(systemctl list-unit-files --type=service --no-legend 'php*-fpm.service' 2>/dev/null | awk 'NR == 1 {print $1}')
if [ -n "$fpm_unit" ]; then fpm=$(state "$fpm_unit"); else fpm=missing; fi
mariadb=
if [ "$tier" = single ]; then mariadb=$(state mariadb); fi

disks=
for path in / /srv/openemr-data; do
  if mountpoint -q "$path"; then
    used=$(df -P "$path" | awk 'NR == 2 {sub("%", "", $5); print $5}')
    disks="$disks${disks:+,}{\"path\":\"$path\",\"used_percent\":$used}"
  fi
done

mem_total=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
mem_available=$(awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo)

if [ "$tier" = single ]; then
  db_out=$(timeout 15 mariadb-admin --protocol=socket ping 2>&1)
  db_rc=$?
  db_tls=false
else
  # A TLS handshake through MySQL's STARTTLS, verified against the RDS CA and the host name:
  # proves the server is reachable and its certificate valid without needing a password.
  db_out=$(timeout 15 openssl s_client -brief -starttls mysql -connect "$DB_HOST:$DB_PORT" \
    -CAfile "$DB_CA_FILE" -verify_hostname "$DB_HOST" -verify_return_error </dev/null 2>&1)
  db_rc=$?
  db_tls=true
fi

backups=$(timeout 60 /opt/openemr-aws/bin/openemr-backup list --json 2>&1)
backups_rc=$?

printf 'OPENEMR-HEALTH {"format":1,"tier":"%s","services":{"apache2":"%s","php-fpm":"%s","mariadb":"%s"},"disks":[%s],"memory":{"total_mb":%s,"available_mb":%s},"db":{"exit_code":%s,"tls":%s,"output_b64":"%s"},"backups":{"exit_code":%s,"output_b64":"%s"}}\n' \
  "$tier" "$apache" "$fpm" "$mariadb" "$disks" "$mem_total" "$mem_available" \
  "$db_rc" "$db_tls" "$(b64 "$db_out")" "$backups_rc" "$(b64 "$backups")"
