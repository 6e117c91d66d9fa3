# shellcheck shell=bash disable=SC2034 # settings and paths here are read by the files that source it
# Shared helpers of the host scripts: logging, settings, secrets, idempotent file installs,
# service control with or without systemd, and the database client. Sourced, never run.

# shellcheck source=SCRIPTDIR/settings.sh
source "$(dirname "${BASH_SOURCE[0]}")/settings.sh"
OPENEMR_AWS_STATE=${OPENEMR_AWS_STATE:-/var/lib/openemr-aws}
OPENEMR_AWS_LOG_DIR=${OPENEMR_AWS_LOG_DIR:-/var/log/openemr-aws}
OPENEMR_WEB_ROOT=/var/www/openemr

log() {
  printf "%s %s\n" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2
}

die() {
  printf '%s\n' "$*" >&2
  exit 1
}

have_systemd() {
  [[ -d /run/systemd/system ]]
}

# Services: systemctl on a booted host; the package's init script where no init system runs
# (containers, chroots), so one script serves both.
service_running() {
  local name=$1
  if have_systemd; then
    systemctl is-active --quiet "$name"
  else
    service "$name" status >/dev/null 2>&1
  fi
}

service_restart() {
  local name=$1
  if have_systemd; then
    systemctl enable --quiet "$name"
    systemctl restart "$name"
  else
    service "$name" restart
  fi
}

service_reload() {
  local name=$1
  if have_systemd; then
    systemctl reload "$name"
  else
    service "$name" reload
  fi
}

service_stop() {
  local name=$1
  if have_systemd; then
    systemctl stop "$name"
  else
    service "$name" stop
  fi
}

# Restarts when asked to (a config changed) or when not running; otherwise leaves it alone.
service_ensure() {
  local name=$1 changed=$2
  if [[ $changed == yes ]] || ! service_running "$name"; then
    log "  (re)starting $name"
    service_restart "$name"
  fi
}

# Installs SOURCE at TARGET with MODE/OWNER only when the content differs; prints "changed"
# when it wrote, so callers know whether to restart what reads it.
install_file() {
  local source=$1 target=$2 mode=${3:-0644} owner=${4:-root:root}
  if [[ -f $target ]] && cmp -s "$source" "$target"; then
    chmod "$mode" "$target"
    chown "$owner" "$target"
    return 0
  fi
  install -D -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$source" "$target"
  log "  wrote $target"
  echo changed
}

# Same, from text on standard input.
install_text() {
  local target=$1 mode=${2:-0644} owner=${3:-root:root} staged
  staged=$(mktemp "$RUN_DIR/staged.XXXXXX")
  cat >"$staged"
  install_file "$staged" "$target" "$mode" "$owner"
  rm -f "$staged"
}

SETTINGS_REQUIRED=(OPENEMR_MODE OPENEMR_TIER OPENEMR_SITE OPENEMR_VERSION DB_HOST DB_PORT DB_NAME DB_APP_USER DB_APP_HOST SECRET_DB_APP SECRET_ADMIN)

# Loads settings.env (lib/settings.sh) and checks every value the bootstrap uses.
load_settings() {
  local file=$OPENEMR_AWS_SETTINGS key
  read_settings_file
  for key in "${SETTINGS_REQUIRED[@]}"; do
    [[ -n ${!key:-} ]] || die "$file: $key is empty; expected a value (see docs/host-interface.md)"
  done
  OPENEMR_STACK=${OPENEMR_STACK:-openemr}
  OPENEMR_UPLOAD_MAX_MB=${OPENEMR_UPLOAD_MAX_MB:-30}
  check_setting OPENEMR_MODE '^(ec2|onprem)$' "ec2 or onprem"
  check_setting OPENEMR_TIER '^(single|standard)$' "single or standard"
  check_setting OPENEMR_SITE '^[A-Za-z0-9_-]+$' "letters, digits, _ or -"
  check_setting OPENEMR_VERSION '^[0-9]+\.[0-9]+\.[0-9]+$' "a version like 8.3.0"
  check_setting OPENEMR_SHA256 '^([0-9a-f]{64})?$' "64 lowercase hex digits, or empty"
  check_setting OPENEMR_UPLOAD_MAX_MB '^[0-9]+$' "a whole number of MB"
  ((OPENEMR_UPLOAD_MAX_MB >= 2 && OPENEMR_UPLOAD_MAX_MB <= 1024)) ||
    die "$file: OPENEMR_UPLOAD_MAX_MB is '$OPENEMR_UPLOAD_MAX_MB'; expected 2 to 1024"
  check_setting OPENEMR_DOMAIN '^([A-Za-z0-9.-]+)?$' "a host name, or empty"
  check_setting DB_HOST '^[A-Za-z0-9.:-]+$' "a host name or address"
  check_setting DB_PORT '^[0-9]+$' "a port number"
  check_setting DB_NAME '^[A-Za-z0-9_-]+$' "letters, digits, _ or - (OpenEMR's installer allows no more)"
  check_setting DB_APP_USER '^[A-Za-z0-9_]{1,32}$' "up to 32 letters, digits or _"
  check_setting DB_APP_HOST '^[A-Za-z0-9.%_:-]+$' "a MySQL host pattern such as 10.0.% or localhost"
  check_setting DATA_DIR '^((/[A-Za-z0-9._-]+)+)?$' "an absolute directory path such as /srv/openemr-data, or empty"
  [[ ${DATA_DIR:-} != /var/www* ]] || die "$file: DATA_DIR is '$DATA_DIR'; expected a directory outside /var/www, which is bind-mounted from it"
  [[ -z ${DATA_VOLUME_ID:-} || -n ${DATA_DIR:-} ]] || die "$file: DATA_DIR is empty; DATA_VOLUME_ID needs the directory to mount the volume at"
  if [[ $OPENEMR_MODE == ec2 ]]; then
    check_setting AWS_REGION '^[a-z]{2}(-gov)?-[a-z]+-[0-9]$' "an AWS region such as us-east-1"
  fi
  if [[ $OPENEMR_TIER == standard ]]; then
    [[ -n ${SECRET_DB_MASTER:-} ]] || die "$file: SECRET_DB_MASTER is empty; tier standard needs the database's master secret"
    [[ -n ${DB_CA_FILE:-} ]] || die "$file: DB_CA_FILE is empty; tier standard connects to the database over TLS and needs its CA bundle"
  fi
}

check_setting() {
  local key=$1 pattern=$2 expected=$3
  [[ ${!key:-} =~ $pattern ]] || die "settings: $key is '${!key:-}'; expected $expected"
}

# OpenEMR's installer splits its arguments on "=" and the SQL here quotes with '': passwords it
# sees must be free of both, of backslashes and of white space.
check_installer_password() {
  local name=$1 value=$2
  [[ ${#value} -ge 12 ]] || die "secret $name: password is ${#value} characters; expected at least 12"
  [[ $value =~ ^[^=[:space:]\'\"\\]+$ ]] ||
    die "secret $name: password contains '=', a quote, a backslash or white space; expected none (OpenEMR's installer cannot take them)"
}

# Replaces every known secret value in standard input with ***.
redact() {
  local line secret
  while IFS= read -r line || [[ -n $line ]]; do
    for secret in "${SECRET_VALUES[@]}"; do
      [[ -n $secret ]] && line=${line//"$secret"/***}
    done
    printf '%s\n' "$line"
  done
}

# A client option file holding one account's credentials, readable by root only; passwords
# never appear on a command line.
write_client_options() {
  local target=$1 user=$2 password=$3
  (
    umask 077
    printf '[client]\nuser=%s\npassword=%s\n' "$(option_value "$user")" "$(option_value "$password")" >"$target"
  )
}

# mariadb client as the master user (standard: over verified TLS; single: root on the socket).
db_master() {
  if [[ $OPENEMR_TIER == single ]]; then
    mariadb --batch --skip-column-names "$@"
  else
    mariadb --defaults-extra-file="$RUN_DIR/master.cnf" --host="$DB_HOST" --port="$DB_PORT" \
      --ssl-ca="$DB_CA_FILE" --ssl-verify-server-cert --connect-timeout=10 --batch --skip-column-names "$@"
  fi
}

# mariadb client as the OpenEMR app user, over TLS where the database is remote.
db_app() {
  local tls=()
  [[ $OPENEMR_TIER == standard ]] && tls=(--ssl-ca="$DB_CA_FILE" --ssl-verify-server-cert)
  mariadb --defaults-extra-file="$RUN_DIR/app.cnf" --host="$DB_HOST" --port="$DB_PORT" \
    "${tls[@]}" --connect-timeout=10 --batch --skip-column-names "$@"
}
