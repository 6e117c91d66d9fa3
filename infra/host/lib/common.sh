# shellcheck shell=bash disable=SC2034 # settings and paths here are read by the files that source it
# The host scripts' one library: logging and errors, settings (lib/settings.sh reads them),
# service control with or without systemd, idempotent file installs and the database client.
# Every script under bin/ and the ops tool's host scripts source it. Sourced, never run.

# shellcheck source=SCRIPTDIR/settings.sh
source "$(dirname "${BASH_SOURCE[0]}")/settings.sh"
OPENEMR_AWS_STATE=${OPENEMR_AWS_STATE:-/var/lib/openemr-aws}
OPENEMR_AWS_LOG_DIR=${OPENEMR_AWS_LOG_DIR:-/var/log/openemr-aws}
OPENEMR_WEB_ROOT=${OPENEMR_WEB_ROOT:-/var/www/openemr}
# The name each line is tagged with; a script sets its own before sourcing.
PROG=${PROG:-${0##*/}}

# Settings every script checks the same way, so no two drift apart.
SITE_NAME_PATTERN='^[A-Za-z0-9_-]+$'
SITE_NAME_EXPECTED="letters, digits, _ or -"
DB_NAME_PATTERN='^[A-Za-z0-9_-]+$'
DB_NAME_EXPECTED="letters, digits, _ or - (OpenEMR's installer allows no more)"

# Logs a timestamped line tagged with PROG to stderr. A script that runs on a timer or by hand
# with nothing capturing its output (backup, restore) sets LOG_TO_JOURNAL=yes: outside a
# systemd unit, whose stderr is the journal already, the line also goes to the journal under
# the same tag, from where rsyslog writes the file the CloudWatch agent ships.
log() {
  printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$PROG" "$*" >&2
  if [[ ${LOG_TO_JOURNAL:-} == yes && -z ${INVOCATION_ID:-} ]]; then
    logger -t "$PROG" -- "$*" 2>/dev/null || true
  fi
}

# A failure: logged, kept in FAILURE_MESSAGE for the script's EXIT trap to report, exit 1.
die() {
  FAILURE_MESSAGE=$*
  log "ERROR: $*"
  exit 1
}

# A mistake on the command line: exit 2, one line and the usage, no stack trace.
usage_error() {
  printf '%s: %s\n%s\n' "$PROG" "$1" "${USAGE:-}" >&2
  exit 2
}

have_systemd() {
  [[ -d /run/systemd/system ]]
}

# Services: systemctl on a booted host; where no init system runs (containers, chroots, the host
# tests' roots) apache2, PHP-FPM and MariaDB go by their own pid files, other services by their
# init scripts. Debian's init scripts find a daemon by name across all of /proc: apache2's stop
# checks `pidof apache2` and refuses ("processes named 'apache2' running which do not match your
# pid file") when any other apache2 runs, php-fpm's status asks `pidof` without its pid file, and
# MariaDB's stop falls back to `killall mariadbd`. On a machine that runs a second copy (another
# chroot, or the machine's own) they fail or signal the wrong one. A pid here counts only while
# its process is alive and shares this root (/proc/PID/root is /), so a stale pid file that now
# names another root's process is never acted on.

# The pid file of a service handled by pid file (fails for the others).
service_pid_file() {
  local name=$1 version conf file=""
  case $name in
    apache2)
      # Debian's, sets APACHE_PID_FILE for apache2ctl too; it reads variables it may not have
      # set, so not under the caller's set -u.
      # shellcheck source=/dev/null
      file=$(
        set +u
        . /etc/apache2/envvars && printf '%s' "${APACHE_PID_FILE:-}"
      )
      ;;
    php*-fpm)
      version=${name#php}
      version=${version%-fpm}
      conf=/etc/php/$version/fpm/php-fpm.conf
      [[ -r $conf ]] && file=$(sed -n 's/^pid[ =]*//p' "$conf" | tail -n 1)
      file=${file:-/run/php/$name.pid}
      ;;
    mariadb)
      file=$(my_print_defaults mysqld mariadb mariadbd server 2>/dev/null | sed -n 's/^--pid-file=//p' | tail -n 1)
      file=${file:-/run/mysqld/mysqld.pid}
      ;;
    *) return 1 ;;
  esac
  printf '%s\n' "$file"
}

# The pid of the service's running main process in this root, from its pid file; fails if none.
service_pid() {
  local file pid=""
  file=$(service_pid_file "$1") || return 1
  [[ -r $file ]] && read -r pid <"$file"
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && [[ /proc/$pid/root -ef / ]] || return 1
  printf '%s\n' "$pid"
}

# Sends the stop signal to the pid file's process and waits for it to exit (60 s, then KILL).
# Again while the pid file names another live process: a reload that re-executed the daemon
# (php-fpm's USR2 forks a new master when daemonized) may have written a new pid meanwhile.
service_stop_pid() {
  local name=$1 signal=TERM pid tries rounds=0
  [[ $name == php*-fpm ]] && signal=QUIT # php-fpm's graceful stop, as its init script does
  while ((rounds++ < 5)) && pid=$(service_pid "$name"); do
    kill -s "$signal" "$pid" 2>/dev/null || true
    tries=0
    while kill -0 "$pid" 2>/dev/null; do
      if ((++tries == 600)); then
        log "  $name (pid $pid) did not stop in 60 s; killing it"
        kill -s KILL "$pid" 2>/dev/null || true
      fi
      sleep 0.1
    done
    sleep 0.2
  done
}

service_running() {
  local name=$1
  if have_systemd; then
    systemctl is-active --quiet "$name"
  elif service_pid_file "$name" >/dev/null; then
    service_pid "$name" >/dev/null
  else
    service "$name" status >/dev/null 2>&1
  fi
}

service_restart() {
  local name=$1
  if have_systemd; then
    systemctl enable --quiet "$name"
    systemctl restart "$name"
  elif service_pid_file "$name" >/dev/null; then
    service_stop "$name"
    service_start "$name"
  else
    service "$name" restart
  fi
}

service_start() {
  local name=$1 version
  if have_systemd; then
    systemctl start "$name"
    return
  fi
  case $name in
    apache2) service_pid apache2 >/dev/null || apache2ctl start ;;
    php*-fpm)
      service_pid "$name" >/dev/null && return 0
      version=${name#php}
      version=${version%-fpm}
      install -d -m 0755 -o www-data -g www-data /run/php
      "/usr/sbin/php-fpm$version" --daemonize --fpm-config "/etc/php/$version/fpm/php-fpm.conf"
      ;;
    # MariaDB's start checks for a server by a ping on its own socket: it stays in this root.
    *) service "$name" start ;;
  esac
}

service_reload() {
  local name=$1 pid
  if have_systemd; then
    systemctl reload "$name"
    return
  fi
  case $name in
    apache2) service_pid apache2 >/dev/null && apache2ctl graceful ;;
    php*-fpm) pid=$(service_pid "$name") && kill -s USR2 "$pid" ;;
    # MariaDB's reload is mariadb-admin on its own socket.
    *) service "$name" reload ;;
  esac
}

service_stop() {
  local name=$1
  if have_systemd; then
    systemctl stop "$name"
    return
  fi
  case $name in
    apache2 | php*-fpm) service_stop_pid "$name" ;;
    mariadb)
      # a clean shutdown over its own socket (mariadb-admin waits for the pid file to go), then
      # by pid file where that fails, never by name
      if service_pid mariadb >/dev/null; then
        mariadb-admin --connect-timeout=10 shutdown >/dev/null 2>&1 || true
        service_stop_pid mariadb
      fi
      ;;
    *) service "$name" stop ;;
  esac
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

# Reads settings.env (lib/settings.sh) and checks the format of every value it sets, the same
# for every script; which keys a script cannot do without, it says with require_settings.
load_settings() {
  local file=$OPENEMR_AWS_SETTINGS
  read_settings_file
  require_settings OPENEMR_MODE
  OPENEMR_STACK=${OPENEMR_STACK:-openemr}
  OPENEMR_SITE=${OPENEMR_SITE:-default}
  OPENEMR_UPLOAD_MAX_MB=${OPENEMR_UPLOAD_MAX_MB:-30}
  DB_HOST=${DB_HOST:-localhost}
  DB_PORT=${DB_PORT:-3306}
  BACKUP_PREFIX=${BACKUP_PREFIX:-}
  BACKUP_PREFIX=${BACKUP_PREFIX%/}
  check_setting OPENEMR_MODE '^(ec2|onprem)$' "ec2 or onprem"
  check_setting OPENEMR_TIER '^(single|standard|ha)$' "single, standard or ha"
  check_setting OPENEMR_SITE "$SITE_NAME_PATTERN" "$SITE_NAME_EXPECTED"
  check_setting OPENEMR_VERSION '^[0-9]+\.[0-9]+\.[0-9]+$' "a version like 8.3.0"
  check_setting OPENEMR_SHA256 '^[0-9a-f]{64}$' "64 lowercase hex digits, or empty"
  check_setting OPENEMR_UPLOAD_MAX_MB '^[0-9]+$' "a whole number of MB"
  ((OPENEMR_UPLOAD_MAX_MB >= 2 && OPENEMR_UPLOAD_MAX_MB <= 1024)) ||
    die "$file: OPENEMR_UPLOAD_MAX_MB is '$OPENEMR_UPLOAD_MAX_MB'; expected 2 to 1024"
  check_setting OPENEMR_DOMAIN '^[A-Za-z0-9.-]+$' "a host name, or empty"
  check_setting DB_HOST '^[A-Za-z0-9.:-]+$' "a host name or address"
  check_setting DB_PORT '^[0-9]+$' "a port number"
  check_setting DB_NAME "$DB_NAME_PATTERN" "$DB_NAME_EXPECTED"
  check_setting DB_APP_USER '^[A-Za-z0-9_]{1,32}$' "up to 32 letters, digits or _"
  check_setting DB_APP_HOST '^[A-Za-z0-9.%_:-]+$' "a MySQL host pattern such as 10.0.% or localhost"
  check_setting DATA_DIR '^(/[A-Za-z0-9._-]+)+$' "an absolute directory path such as /srv/openemr-data, or empty"
  [[ ${DATA_DIR:-} != /var/www* ]] ||
    die "$file: DATA_DIR is '$DATA_DIR'; expected a directory outside /var/www, which is bind-mounted from it"
  [[ -z ${DATA_VOLUME_ID:-} || -n ${DATA_DIR:-} ]] ||
    die "$file: DATA_DIR is empty; DATA_VOLUME_ID needs the directory to mount the volume at"
  check_setting SESSION_CACHE_HOST '^[A-Za-z0-9.-]+$' "the Valkey primary endpoint's host name, or empty"
  [[ -z ${SESSION_CACHE_HOST:-} ]] || require_settings SECRET_SESSION_CACHE
  check_setting EFS_FILE_SYSTEM_ID '^fs-[0-9a-f]+$' "an EFS file system id such as fs-0123456789abcdef0, or empty"
  check_setting EFS_ACCESS_POINT_ID '^fsap-[0-9a-f]+$' "an EFS access point id such as fsap-0123456789abcdef0, or empty"
  if [[ $OPENEMR_MODE == ec2 ]]; then
    require_settings AWS_REGION
    check_setting AWS_REGION '^[a-z]{2}(-gov)?-[a-z]+-[0-9]$' "an AWS region such as us-east-1"
    export AWS_REGION AWS_DEFAULT_REGION=$AWS_REGION
  fi
}

# Dies naming the first KEY that settings.env leaves empty.
require_settings() {
  local key
  for key in "$@"; do
    [[ -n ${!key:-} ]] ||
      die "$OPENEMR_AWS_SETTINGS: $key is empty; expected a value (see docs/host-interface.md)"
  done
}

# Dies when KEY is set and does not match PATTERN; an empty KEY is require_settings' business.
check_setting() {
  local key=$1 pattern=$2 expected=$3
  [[ -z ${!key:-} || ${!key} =~ $pattern ]] || die "$OPENEMR_AWS_SETTINGS: $key is '${!key:-}'; expected $expected"
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
  [[ $OPENEMR_TIER != single ]] && tls=(--ssl-ca="$DB_CA_FILE" --ssl-verify-server-cert)
  mariadb --defaults-extra-file="$RUN_DIR/app.cnf" --host="$DB_HOST" --port="$DB_PORT" \
    "${tls[@]}" --connect-timeout=10 --batch --skip-column-names "$@"
}

# Named locks on the shared database (tier ha), where the hosts of the group agree on who does
# what. A lock is held by a mariadb session (as the app user) kept open in a coprocess: the server
# frees it when that session ends, so a host that dies holding one frees it for the others. One
# such session a process; LOCK_REPLY holds the last answer.
lock_session_open() {
  [[ -n ${LOCK_SESSION_PID:-} ]] && return 0
  coproc LOCK_SESSION { db_app --unbuffered "$DB_NAME" 2>&1; }
  LOCK_SESSION_IN=${LOCK_SESSION[1]} LOCK_SESSION_OUT=${LOCK_SESSION[0]}
}

# Sends one SQL line that answers one row, and reads that row into LOCK_REPLY.
lock_session_query() {
  LOCK_REPLY=""
  if ! { printf '%s\n' "$1" >&"$LOCK_SESSION_IN"; } 2>/dev/null ||
    ! IFS= read -r -t 120 LOCK_REPLY <&"$LOCK_SESSION_OUT"; then
    die "the database session for locks on $DB_HOST:$DB_PORT ended or gave no answer: $(redact <<<"$LOCK_REPLY")"
  fi
}

# Ends the session, and with it every lock it holds.
lock_session_close() {
  [[ -n ${LOCK_SESSION_PID:-} ]] || return 0
  exec {LOCK_SESSION_IN}>&-
  wait "$LOCK_SESSION_PID" 2>/dev/null || true
  LOCK_SESSION_PID=""
}

# Who holds lock NAME, as one phrase for a log line: the session's id and the address it came from.
lock_holder() {
  local name=$1
  lock_session_query "SELECT COALESCE(CONCAT('session ', IS_USED_LOCK('$name'), ' from ', (SELECT HOST FROM information_schema.PROCESSLIST WHERE ID = IS_USED_LOCK('$name'))), 'no one now');"
  printf '%s\n' "$LOCK_REPLY"
}

# ha: one installer and one schema upgrader across the hosts. Takes the lock
# openemr-aws-install-<DB_NAME> and holds it (INSTALL_LOCK_WAIT_SECONDS, default 3600, to get it)
# until release_install_lock or the end of the bootstrap; while another host holds it, says
# which every 10 s, and what it is taken for (WORK, default "installs OpenEMR"). Elsewhere a no-op.
take_install_lock() {
  [[ $OPENEMR_TIER == ha && -z ${LOCK_SESSION_PID:-} ]] || return 0
  local work=${1:-installs OpenEMR}
  local name=openemr-aws-install-$DB_NAME deadline=$((SECONDS + ${INSTALL_LOCK_WAIT_SECONDS:-3600}))
  lock_session_open
  lock_session_query "SELECT GET_LOCK('$name', 10);"
  until [[ $LOCK_REPLY == 1 ]]; do
    [[ $LOCK_REPLY == 0 ]] || die "cannot take the install lock $name on $DB_HOST:$DB_PORT: $(redact <<<"$LOCK_REPLY")"
    ((SECONDS < deadline)) ||
      die "the install lock $name was not free within ${INSTALL_LOCK_WAIT_SECONDS:-3600}s; it is held by $(lock_holder "$name")"
    log "  waiting for the install lock $name, held by $(lock_holder "$name") (another host $work)"
    lock_session_query "SELECT GET_LOCK('$name', 10);"
  done
  log "  holding the install lock $name"
}

release_install_lock() {
  [[ -n ${LOCK_SESSION_PID:-} ]] || return 0
  lock_session_close
  log "  released the install lock openemr-aws-install-$DB_NAME"
}

# ha: whether this host runs JOB (backup, drill, rotate-db-password) for PERIOD (e.g. the UTC
# day), when a timer started it (INVOCATION_ID: systemd's; a run by hand always runs). Every
# host's timer fires; the first to record JOB's PERIOD in the table openemr_aws_jobs of OpenEMR's database runs it, under
# the lock openemr-aws-job-JOB (held until this script ends, so a run that outlasts its period is
# not joined by another). A host that skips says which host ran it, and returns 1. Elsewhere 0.
elected_node() {
  local job=$1 period=$2 node lock
  [[ $OPENEMR_TIER == ha && -n ${INVOCATION_ID:-} ]] || return 0
  node=$(uname -n)
  [[ $node =~ ^[A-Za-z0-9.-]+$ ]] || die "this host's name '$node' is not a plain host name"
  lock=openemr-aws-job-$job
  load_credentials DB_APP "$SECRET_DB_APP"
  write_client_options "$RUN_DIR/app.cnf" "$DB_APP_USER" "$DB_APP_PASSWORD"
  lock_session_open
  lock_session_query "SELECT GET_LOCK('$lock', 0);"
  if [[ $LOCK_REPLY == 0 ]]; then
    log "skipped: $job runs on another host now ($(lock_holder "$lock"))"
    return 1
  fi
  [[ $LOCK_REPLY == 1 ]] || die "cannot take the job lock $lock on $DB_HOST:$DB_PORT: $(redact <<<"$LOCK_REPLY")"
  lock_session_query "CREATE TABLE IF NOT EXISTS openemr_aws_jobs (job VARCHAR(32) NOT NULL, period VARCHAR(32) NOT NULL, node VARCHAR(255) NOT NULL, started_at DATETIME NOT NULL, PRIMARY KEY (job, period)); INSERT IGNORE INTO openemr_aws_jobs VALUES ('$job', '$period', '$node', UTC_TIMESTAMP()); SELECT node FROM openemr_aws_jobs WHERE job = '$job' AND period = '$period';"
  if [[ $LOCK_REPLY != "$node" ]]; then
    log "skipped: $job for $period ran on $LOCK_REPLY"
    return 1
  fi
  log "$job for $period runs on this host ($node)"
}
