#!/usr/bin/env bash
# Benchmark of openemr-backup and openemr-restore on a database of at least 1 GB in OpenEMR's
# schema: OpenEMR's database.sql, then generated rows in the clinical tables. Prints figures:
#   backup  vs  mariadb-dump (same flags) > /dev/null
#   restore vs  mariadb < dump.sql
#   peak memory of the whole backup (every process of its process group, sampled)
#   time from a committed row to a shipped binary log holding it in the backup store.
# Runs in a fresh Debian 13 root (bench/backup-root.ts, the host tests' image: the host's own
# MariaDB and tools), its own MariaDB on 127.0.0.1:$BENCH_PORT with a data directory under
# $BENCH_DIR; generated data is kept there and reused by the next run. Needs root.
set -Eeuo pipefail

REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED_OPENEMR="${OPENEMR_SHARED_DIR:-$REPO_ROOT/../shared/openemr}"
BENCH_DIR="${BENCH_DIR:-/var/tmp/openemr-backup-bench}"
BENCH_PORT="${BENCH_PORT:-33306}"
# Row counts are multiplied by this; 1 gives about 1.2 GB of table data.
BENCH_SCALE="${BENCH_SCALE:-1}"

[[ "$BENCH_SCALE" =~ ^[1-9][0-9]*$ ]] || {
  echo "BENCH_SCALE is '$BENCH_SCALE', expected a whole number >= 1" >&2
  exit 2
}
[[ -f "$SHARED_OPENEMR/database.sql" ]] || {
  echo "no OpenEMR database.sql in $SHARED_OPENEMR (set OPENEMR_SHARED_DIR)" >&2
  exit 2
}
((EUID == 0)) || {
  echo "run as root: the benchmark starts its own MariaDB in a Debian root" >&2
  exit 2
}
if [[ -z ${BENCH_IN_ROOT:-} ]]; then
  exec "$REPO_ROOT/node_modules/.bin/ts-node" --transpile-only "$REPO_ROOT/bench/backup-root.ts"
fi

DATA_DIR="$BENCH_DIR/data"
SOCKET="$BENCH_DIR/mysqld.sock"
ETC="$BENCH_DIR/etc"
MARKER="$DATA_DIR/.openemr-bench-scale-$BENCH_SCALE"

admin() { mariadb --no-defaults --socket="$SOCKET" --user=root --batch --skip-column-names "$@"; }

stop_server() {
  if [[ -f "$BENCH_DIR/mysqld.pid" ]]; then
    kill "$(cat "$BENCH_DIR/mysqld.pid")" 2>/dev/null || true
    while [[ -f "$BENCH_DIR/mysqld.pid" ]]; do sleep 0.2; done
  fi
}
trap 'stop_binlog_server; stop_server' EXIT

start_server() {
  mkdir -p "$BENCH_DIR"
  chown mysql:mysql "$BENCH_DIR"
  if [[ ! -f "$MARKER" ]]; then
    rm -rf "$DATA_DIR"
    mariadb-install-db --no-defaults --user=mysql --datadir="$DATA_DIR" --auth-root-authentication-method=socket >/dev/null
  fi
  mariadbd --no-defaults --user=mysql --datadir="$DATA_DIR" --socket="$SOCKET" \
    --pid-file="$BENCH_DIR/mysqld.pid" --log-error="$BENCH_DIR/error.log" \
    --bind-address=127.0.0.1 --port="$BENCH_PORT" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --innodb-buffer-pool-size=2G --innodb-log-file-size=1G --max-allowed-packet=64M &
  for _ in $(seq 100); do
    admin -e 'SELECT 1' >/dev/null 2>&1 && return 0
    sleep 0.3
  done
  echo "MariaDB did not start; see $BENCH_DIR/error.log" >&2
  exit 1
}

# Rows are made by the server itself from sequence tables (INSERT ... SELECT), so 1 GB takes
# minutes, not hours. Values vary with the row number; free text repeats a clinical
# vocabulary, as real notes do, and ids and hashes are hex, as they are in OpenEMR.
generate() {
  local n="$BENCH_SCALE"
  admin -e "CREATE DATABASE openemr CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
  admin openemr <"$SHARED_OPENEMR/database.sql"
  admin openemr <"$SHARED_OPENEMR/example_patient_data.sql"
  admin openemr <<SQL
SET SESSION sql_mode = '';
SET @words = 'patient reports mild intermittent pain since last visit denies fever chills nausea vomiting
  reviewed medications allergies history vitals stable lungs clear heart regular rate rhythm abdomen soft
  nontender follow up two weeks labs ordered cbc cmp lipid panel a1c counseled diet exercise smoking cessation';
DELIMITER //
CREATE FUNCTION bench_text(seed BIGINT, words INT) RETURNS TEXT DETERMINISTIC
BEGIN
  DECLARE result TEXT DEFAULT '';
  DECLARE i INT DEFAULT 0;
  WHILE i < words DO
    SET result = CONCAT(result, SUBSTRING_INDEX(SUBSTRING_INDEX(REPLACE(@words, '\n', ' '), ' ', 1 + (seed * 31 + i * 17) % 60), ' ', -1), ' ');
    SET i = i + 1;
  END WHILE;
  RETURN result;
END//
DELIMITER ;
-- A thousand 60-word texts, joined by row number: a stored function a row would take hours.
CREATE TABLE bench_words (id INT PRIMARY KEY, words TEXT);
INSERT INTO bench_words SELECT seq, bench_text(seq, 60) FROM seq_0_to_999;

INSERT INTO patient_data (uuid, title, language, fname, lname, mname, DOB, street, postal_code, city, state,
  country_code, ss, occupation, phone_home, phone_cell, status, date, sex, email, race, ethnicity, pubpid, pid,
  regdate, billing_note)
SELECT UNHEX(MD5(s.seq)), ELT(1 + s.seq % 4, 'Mr.', 'Mrs.', 'Ms.', 'Dr.'), 'English',
  ELT(1 + s.seq % 12, 'James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Maria', 'Wei', 'Aisha'),
  ELT(1 + (s.seq * 7) % 12, 'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Nguyen', 'Khan', 'Lopez', 'Martin'),
  CHAR(65 + s.seq % 26), DATE_SUB('2020-01-01', INTERVAL s.seq % 30000 DAY),
  CONCAT(s.seq % 9999, ' ', ELT(1 + s.seq % 5, 'Oak', 'Main', 'Pine', 'Maple', 'Cedar'), ' Street'),
  LPAD(s.seq % 99999, 5, '0'), ELT(1 + s.seq % 5, 'Springfield', 'Riverside', 'Fairview', 'Madison', 'Georgetown'),
  'CA', 'USA', CONCAT(LPAD(s.seq % 999, 3, '0'), '-', LPAD(s.seq % 99, 2, '0'), '-', LPAD(s.seq % 9999, 4, '0')),
  SUBSTRING_INDEX(w.words, ' ', 6), CONCAT('555-', LPAD(s.seq % 9999, 4, '0')), CONCAT('555-', LPAD((s.seq * 3) % 9999, 4, '0')),
  ELT(1 + s.seq % 3, 'married', 'single', 'divorced'), NOW(), ELT(1 + s.seq % 2, 'Male', 'Female'),
  CONCAT('patient', s.seq, '@example.org'), 'white', 'not_hisp_or_latin', s.seq + 1000, s.seq + 1000, NOW(), SUBSTRING_INDEX(w.words, ' ', 12)
FROM seq_1_to_$((100000 * n)) s
JOIN bench_words w ON w.id = s.seq % 1000;

INSERT INTO form_encounter (uuid, date, reason, facility, facility_id, pid, encounter, onset_date, sensitivity,
  billing_note, pc_catid, provider_id, billing_facility, pos_code, class_code)
SELECT UNHEX(MD5(CONCAT('enc', s.seq))), DATE_SUB(NOW(), INTERVAL s.seq % 3650 DAY), SUBSTRING_INDEX(w.words, ' ', 25),
  'Your Clinic Name Here', 3, 1000 + s.seq % $((100000 * n)), s.seq, DATE_SUB(NOW(), INTERVAL s.seq % 4000 DAY),
  'normal', SUBSTRING_INDEX(w.words, ' ', 8), 5, 1 + s.seq % 20, 3, 11, 'AMB'
FROM seq_1_to_$((500000 * n)) s
JOIN bench_words w ON w.id = s.seq % 1000;

INSERT INTO forms (date, encounter, form_name, form_id, pid, user, groupname, authorized, deleted, formdir, provider_id)
SELECT DATE_SUB(NOW(), INTERVAL s.seq % 3650 DAY), s.seq DIV 2, ELT(1 + s.seq % 4, 'New Patient Encounter', 'Vitals', 'SOAP', 'Review of Systems'),
  s.seq, 1000 + s.seq % $((100000 * n)), 'admin', 'Default', 1, 0, ELT(1 + s.seq % 4, 'newpatient', 'vitals', 'soap', 'ros'), 1 + s.seq % 20
FROM seq_1_to_$((1000000 * n)) s
JOIN bench_words w ON w.id = s.seq % 1000;

INSERT INTO lists (uuid, date, type, title, begdate, diagnosis, activity, comments, pid, user, groupname, outcome, verification)
SELECT UNHEX(MD5(CONCAT('list', s.seq))), DATE_SUB(NOW(), INTERVAL s.seq % 3650 DAY),
  ELT(1 + s.seq % 4, 'medical_problem', 'allergy', 'medication', 'surgery'),
  ELT(1 + s.seq % 6, 'Hypertension', 'Type 2 diabetes mellitus', 'Penicillin allergy', 'Asthma', 'Hyperlipidemia', 'Appendectomy'),
  DATE_SUB(NOW(), INTERVAL s.seq % 5000 DAY), CONCAT('ICD10:', ELT(1 + s.seq % 6, 'I10', 'E11.9', 'Z88.0', 'J45.909', 'E78.5', 'K35.80')),
  1, SUBSTRING_INDEX(w.words, ' ', 20), 1000 + s.seq % $((100000 * n)), 'admin', 'Default', 0, 'confirmed'
FROM seq_1_to_$((400000 * n)) s
JOIN bench_words w ON w.id = s.seq % 1000;

INSERT INTO prescriptions (uuid, patient_id, provider_id, encounter, date_added, date_modified, start_date, drug,
  rxnorm_drugcode, dosage, quantity, route, \`interval\`, refills, note, active, datetime, user, site)
SELECT UNHEX(MD5(CONCAT('rx', s.seq))), 1000 + s.seq % $((100000 * n)), 1 + s.seq % 20, s.seq, NOW(), NOW(),
  DATE_SUB(CURDATE(), INTERVAL s.seq % 2000 DAY),
  ELT(1 + s.seq % 6, 'Lisinopril 10 MG Oral Tablet', 'Metformin 500 MG Oral Tablet', 'Atorvastatin 20 MG Oral Tablet',
    'Albuterol 90 MCG Inhaler', 'Amoxicillin 500 MG Oral Capsule', 'Omeprazole 20 MG Capsule'),
  ELT(1 + s.seq % 6, '314076', '860975', '617312', '745679', '308191', '198053'),
  ELT(1 + s.seq % 3, '1 tablet', '2 tablets', '1 puff'), CONCAT(30 + s.seq % 60), 'oral', 1 + s.seq % 5, s.seq % 4,
  SUBSTRING_INDEX(w.words, ' ', 15), 1, NOW(), 'admin', 'default'
FROM seq_1_to_$((400000 * n)) s
JOIN bench_words w ON w.id = s.seq % 1000;

INSERT INTO billing (date, code_type, code, pid, provider_id, user, groupname, authorized, encounter, code_text,
  billed, activity, payer_id, bill_process, modifier, units, fee, justify)
SELECT DATE_SUB(NOW(), INTERVAL s.seq % 3650 DAY), ELT(1 + s.seq % 3, 'CPT4', 'ICD10', 'HCPCS'),
  ELT(1 + s.seq % 6, '99213', '99214', 'I10', 'E11.9', '80053', 'G0439'), 1000 + s.seq % $((100000 * n)), 1 + s.seq % 20,
  1, 'Default', 1, s.seq DIV 2,
  ELT(1 + s.seq % 6, 'Office or other outpatient visit, established patient, low complexity',
    'Office or other outpatient visit, established patient, moderate complexity', 'Essential (primary) hypertension',
    'Type 2 diabetes mellitus without complications', 'Comprehensive metabolic panel', 'Annual wellness visit, subsequent'),
  s.seq % 2, 1, 1 + s.seq % 8, 2, '', 1, 25 + (s.seq % 400), 'I10:'
FROM seq_1_to_$((1000000 * n)) s
JOIN bench_words w ON w.id = s.seq % 1000;

INSERT INTO documents (id, uuid, type, size, date, url, mimetype, pages, owner, foreign_id, docdate, hash, list_id, name, storagemethod, encounter_id)
SELECT s.seq, UNHEX(MD5(CONCAT('doc', s.seq))), 'file_url', 20000 + s.seq % 500000, DATE_SUB(NOW(), INTERVAL s.seq % 3650 DAY),
  CONCAT('file:///var/www/openemr/sites/default/documents/', 1000 + s.seq % $((100000 * n)), '/scan-', s.seq, '.pdf'),
  'application/pdf', 1 + s.seq % 9, 1, 1000 + s.seq % $((100000 * n)), DATE_SUB(CURDATE(), INTERVAL s.seq % 3650 DAY),
  SHA2(CONCAT('doc', s.seq), 256), 3 + s.seq % 10, CONCAT('scan-', s.seq, '.pdf'), 0, s.seq DIV 2
FROM seq_1_to_$((200000 * n)) s
JOIN bench_words w ON w.id = s.seq % 1000;

INSERT INTO log (date, event, category, user, groupname, comments, user_notes, patient_id, success, checksum, crt_user, log_from)
SELECT DATE_SUB(NOW(), INTERVAL s.seq MINUTE), ELT(1 + s.seq % 4, 'patient-record-select', 'patient-record-update', 'login', 'view'),
  ELT(1 + s.seq % 3, 'Patient Demographics', 'Encounter Form', 'Login'), 'admin', 'Default',
  CONCAT('select * from form_encounter where pid=', 1000 + s.seq % $((100000 * n)), ' and encounter=', s.seq, ' ', SUBSTRING_INDEX(w.words, ' ', 10)),
  '', 1000 + s.seq % $((100000 * n)), 1, SHA1(CONCAT('log', s.seq)), 'admin', 'open-emr'
FROM seq_1_to_$((1000000 * n)) s
JOIN bench_words w ON w.id = s.seq % 1000;

INSERT INTO api_log (log_id, user_id, patient_id, ip_address, method, request, request_url, request_body, response, created_time)
SELECT s.seq, 1, 1000 + s.seq % $((100000 * n)), CONCAT('10.0.', s.seq % 255, '.', s.seq % 250), ELT(1 + s.seq % 2, 'GET', 'POST'),
  '/fhir/Patient', CONCAT('/apis/default/fhir/Patient/', HEX(UNHEX(MD5(s.seq)))),
  CONCAT('{"resourceType":"Patient","id":"', MD5(s.seq), '","name":[{"family":"Smith","given":["Mary"]}],"note":"', SUBSTRING_INDEX(w.words, ' ', 30), '"}'),
  CONCAT('{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"fullUrl":"https://emr.example.org/apis/default/fhir/Patient/', MD5(s.seq),
    '","resource":{"resourceType":"Patient","id":"', MD5(s.seq), '","text":"', SUBSTRING_INDEX(w.words, ' ', 60), '"}}]}'),
  DATE_SUB(NOW(), INTERVAL s.seq MINUTE)
FROM seq_1_to_$((200000 * n)) s
JOIN bench_words w ON w.id = s.seq % 1000;

DROP FUNCTION bench_text;
DROP TABLE bench_words;
SQL
  touch "$MARKER"
}

# Runs a command in its own process group, samples the summed RSS of that group every 0.1 s
# and prints "<seconds> <peak kB>" to fd 3. GNU time's maxrss is per process; a pipeline's
# processes run at once, so their sum is what the host must have.
measure() {
  local start end pid peak=0 rss
  start="$(date +%s.%N)"
  setsid "$@" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    rss="$(ps -o rss= -g "$pid" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')"
    ((rss > peak)) && peak=$rss
    sleep 0.1
  done
  wait "$pid"
  end="$(date +%s.%N)"
  printf '%s %s\n' "$(calc "$end - $start")" "$peak" >&3
}

# Fixed-point: awk's default format would round an epoch time to six significant digits.
calc() { awk "BEGIN { printf \"%.6f\\n\", $1 }"; }

# Sleeps until the epoch time (seconds, fractions allowed) $1, at once if it has passed.
sleep_until() { sleep "$(awk -v until="$1" -v now="$(date +%s.%N)" 'BEGIN { d = until - now; printf "%.3f", (d > 0 ? d : 0) }')"; }

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

seconds() { { measure "$@" 3>&1 >/dev/null 2>>"$BENCH_DIR/bench.log"; } | awk '{ print $1 }'; }

# A systemd time span as the host's units write them ("5min", "4min 30s", "15s", "1h") in seconds.
span_seconds() {
  local span=${1// /} total=0 value unit
  while [[ $span =~ ^([0-9]+)(h|min|m|s|sec)?(.*)$ ]]; do
    value=${BASH_REMATCH[1]} unit=${BASH_REMATCH[2]:-s} span=${BASH_REMATCH[3]}
    case $unit in
      h) total=$((total + value * 3600)) ;;
      min | m) total=$((total + value * 60)) ;;
      *) total=$((total + value)) ;;
    esac
  done
  [[ -z $span ]] || {
    echo "cannot read the time span '$1'" >&2
    exit 1
  }
  printf '%s' "$total"
}

# The value of KEY= in a systemd unit file.
unit_setting() { sed -n "s/^$2=//p" "$1" | tail -n 1; }

BINLOG_DIR="$BENCH_DIR/binlog"
# The host's default socket, as openemr-backup finds a local server through the client's own
# configuration (nothing else in the benchmark's root listens there).
BINLOG_SOCKET=/run/mysqld/mysqld.sock
binlog_admin() { mariadb --no-defaults --socket="$BINLOG_SOCKET" --user=root --batch --skip-column-names "$@"; }

stop_binlog_server() {
  [[ -n ${SHIP_TIMER_PID:-} ]] && kill "$SHIP_TIMER_PID" 2>/dev/null
  if [[ -f "$BINLOG_DIR/mysqld.pid" ]]; then
    kill "$(cat "$BINLOG_DIR/mysqld.pid")" 2>/dev/null || true
    while [[ -f "$BINLOG_DIR/mysqld.pid" ]]; do sleep 0.2; done
  fi
}

# The time from a committed row to a shipped binary log holding it, driven as a `single` host
# drives it: a MariaDB with the host's binary log settings (conf/mariadb/92-openemr-binlog.cnf,
# 64 MB logs), `openemr-backup ship-binlogs` started at the cadence openemr-binlog-ship.timer
# sets, each start as late as systemd may make it (OnUnitActiveSec plus AccuracySec, counted
# start to start, as systemd counts), and a store on disk polled every second. Probe rows are
# committed at even steps over whole timer periods, the first a second after a run; once in
# the first period a bulk write fills a log past its size, so the server rotates it on its
# own and the next run ships it beside the one the run rotates. A probe's latency runs from
# its COMMIT returning to the poll that finds its marker in a shipped log (its .json, written
# after the .zst, marks the log complete). Prints "<probes> <median s> <max s> <period s>
# <longest ship run s> <logs shipped> <logs rotated by size>".
binlog_latency() {
  local timer="$REPO_ROOT/infra/host/systemd/openemr-binlog-ship.timer" period accuracy cycle
  period="$(span_seconds "$(unit_setting "$timer" OnUnitActiveSec)")"
  accuracy="$(span_seconds "$(unit_setting "$timer" AccuracySec)")"
  cycle=$((period + accuracy))
  local periods="${BENCH_BINLOG_PERIODS:-1}" step="${BENCH_BINLOG_PROBE_SECONDS:-15}"
  rm -rf "$BINLOG_DIR"
  mkdir -p "$BINLOG_DIR/etc" "$BINLOG_DIR/store" "$BINLOG_DIR/seen"
  chown mysql:mysql "$BINLOG_DIR"
  install -d -o mysql -g mysql "${BINLOG_SOCKET%/*}"
  mariadb-install-db --no-defaults --user=mysql --datadir="$BINLOG_DIR/data" --auth-root-authentication-method=socket >/dev/null
  mariadbd --defaults-file="$REPO_ROOT/infra/host/conf/mariadb/92-openemr-binlog.cnf" --user=mysql \
    --datadir="$BINLOG_DIR/data" --socket="$BINLOG_SOCKET" --pid-file="$BINLOG_DIR/mysqld.pid" \
    --log-error="$BINLOG_DIR/error.log" --skip-networking --innodb-buffer-pool-size=256M &
  for _ in $(seq 100); do
    binlog_admin -e 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.3
  done
  local max_size
  max_size="$(binlog_admin -e 'SELECT @@log_bin, @@max_binlog_size')"
  [[ ${max_size%$'\t'*} == 1 ]] || {
    echo "the binary log server did not start with log_bin on; see $BINLOG_DIR/error.log" >&2
    exit 1
  }
  max_size=${max_size#*$'\t'}
  binlog_admin -e "CREATE DATABASE openemr; CREATE TABLE openemr.bench_probe
    (id INT AUTO_INCREMENT PRIMARY KEY, marker VARCHAR(64) NOT NULL, filler LONGTEXT)"
  # The host's settings as a `single` host has them, on-prem: a local server over its socket
  # (as root over the socket: no job account named), the store a directory.
  printf 'OPENEMR_MODE=onprem\nOPENEMR_TIER=single\nOPENEMR_STACK=bench\nDB_HOST=localhost\nDB_NAME=openemr\nBACKUP_DIR=%s/store\n' \
    "$BINLOG_DIR" >"$BINLOG_DIR/etc/settings.env"
  local ship_env=(OPENEMR_AWS_ETC="$BINLOG_DIR/etc" OPENEMR_AWS_STATE="$BINLOG_DIR/state"
    OPENEMR_AWS_RUN="$BINLOG_DIR/run")

  # The timer: a run, then the next start one cycle after this one's start.
  (
    while :; do
      local started ended
      started="$(date +%s.%N)"
      env "${ship_env[@]}" "$REPO_ROOT/infra/host/bin/openemr-backup" ship-binlogs >>"$BINLOG_DIR/ship.log" 2>&1
      ended="$(date +%s.%N)"
      printf '%s %s\n' "$started" "$ended" >>"$BINLOG_DIR/runs"
      sleep_until "$(calc "$started + $cycle")"
    done
  ) &
  SHIP_TIMER_PID=$!
  while [[ ! -s $BINLOG_DIR/runs ]]; do sleep 0.2; done
  local first_run_end
  first_run_end="$(awk 'NR == 1 { print $2 }' "$BINLOG_DIR/runs")"

  # The store's poller: each new complete log searched once for probe markers.
  (
    local json name
    while :; do
      for json in "$BINLOG_DIR/store/binlogs/"*.json; do
        [[ -f $json ]] || continue
        name="$(basename "$json" .json)"
        [[ -f $BINLOG_DIR/seen/$name ]] && continue
        # A log without probes (grep finds nothing) is seen all the same.
        zstd -q -d -c "$BINLOG_DIR/store/binlogs/$name.zst" | { grep -a -o -E 'bench-probe-[0-9]+-[0-9a-f]{12}' || true; } |
          sort -u | awk -v at="$(date +%s.%N)" '{ print $1, at }' >"$BINLOG_DIR/seen/$name"
      done
      sleep 1
    done
  ) &
  local poller=$!

  local probes=$((periods * cycle / step)) i marker bulk_at=$((cycle / 2))
  for ((i = 0; i < probes; i++)); do
    sleep_until "$(calc "$first_run_end + 1 + $i * $step")"
    if ((i * step <= bulk_at && (i + 1) * step > bulk_at)); then
      # Past max_binlog_size in one go: the server closes that log itself, between timer runs.
      binlog_admin openemr -e "INSERT INTO bench_probe (marker, filler)
        SELECT 'bulk', REPEAT('x', 4096) FROM seq_1_to_$((max_size / 4096 + 1024))"
    fi
    marker="bench-probe-$i-$(openssl rand -hex 6)"
    binlog_admin -e "INSERT INTO openemr.bench_probe (marker) VALUES ('$marker')"
    printf '%s %s\n' "$marker" "$(date +%s.%N)" >>"$BINLOG_DIR/committed"
  done

  local deadline=$((SECONDS + 2 * cycle + 60))
  while (($(cat "$BINLOG_DIR/seen/"* 2>/dev/null | wc -l) < probes)); do
    ((SECONDS < deadline)) || {
      echo "probe rows not shipped within two timer periods; see $BINLOG_DIR/ship.log" >&2
      exit 1
    }
    sleep 1
  done
  kill "$poller" "$SHIP_TIMER_PID"
  wait "$poller" "$SHIP_TIMER_PID" 2>/dev/null || true
  SHIP_TIMER_PID=
  local latencies longest_run shipped by_size
  latencies="$(sort "$BINLOG_DIR/seen/"* | join - <(sort "$BINLOG_DIR/committed") | awk '{ print $2 - $3 }')"
  longest_run="$(awk '{ d = $2 - $1; if (d > m) m = d } END { print m }' "$BINLOG_DIR/runs")"
  shipped="$(find "$BINLOG_DIR/store/binlogs" -name '*.json' | wc -l)"
  # The server's own copies are full size (the shipped ones compressed): a log it closed at
  # max_binlog_size is at least that long.
  by_size="$(find "$BINLOG_DIR/data" -name 'openemr-bin.[0-9]*' -size "+$((max_size - 1))c" | wc -l)"
  stop_binlog_server
  # shellcheck disable=SC2086 # one latency a word
  printf '%s %s %s %s %s %s %s\n' "$probes" "$(median $latencies)" \
    "$(printf '%s\n' $latencies | sort -g | tail -n 1)" "$cycle" "$longest_run" "$shipped" "$by_size"
}

main() {
  start_server
  if [[ ! -f "$MARKER" ]]; then
    echo "generating the OpenEMR database (scale $BENCH_SCALE)..." >&2
    local t0=$SECONDS
    generate
    echo "generated in $((SECONDS - t0)) s" >&2
  fi
  admin -e "DROP DATABASE IF EXISTS plain_restore; DROP DATABASE IF EXISTS backup_restore;
    CREATE USER IF NOT EXISTS 'bench'@'127.0.0.1' IDENTIFIED BY 'bench-password-only-for-this-benchmark';
    GRANT ALL ON *.* TO 'bench'@'127.0.0.1'"

  mkdir -p "$ETC" "$BENCH_DIR/www/sites/default/documents" "$BENCH_DIR/backups"
  head -c 4000000 /dev/urandom >"$BENCH_DIR/www/sites/default/documents/scan.pdf"
  # shellcheck disable=SC2016 # PHP, not shell
  printf '<?php $config = 1;\n' >"$BENCH_DIR/www/sites/default/sqlconf.php"
  rm -rf "${BENCH_DIR:?}/backups/"* "$BENCH_DIR/restore"
  printf 'OPENEMR_MODE=onprem\nOPENEMR_STACK=bench\nOPENEMR_SITE=default\nOPENEMR_VERSION=8.3.0\nDB_HOST=127.0.0.1\nDB_PORT=%s\nDB_NAME=openemr\nSECRET_DB_MASTER=bench\nBACKUP_DIR=%s/backups\n' \
    "$BENCH_PORT" "$BENCH_DIR" >"$ETC/settings.env"
  (umask 077 && printf '{"bench":{"username":"bench","password":"bench-password-only-for-this-benchmark"}}\n' >"$ETC/secrets.json")
  printf '[client]\nuser=bench\npassword=bench-password-only-for-this-benchmark\nhost=127.0.0.1\nport=%s\n' "$BENCH_PORT" >"$ETC/client.cnf"
  chmod 600 "$ETC/client.cnf"
  # The on-prem signing key the bootstrap would make: backups are signed, restores check it.
  [[ -s $ETC/backup-signing.key ]] ||
    (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$ETC/backup-signing.key" 2>/dev/null)
  export OPENEMR_AWS_ETC="$ETC" OPENEMR_WEB_ROOT="$BENCH_DIR/www" OPENEMR_AWS_LOCK="$BENCH_DIR/lock" \
    OPENEMR_AWS_STATE="$BENCH_DIR/state" OPENEMR_AWS_RUN="$BENCH_DIR/run"

  local data_bytes flags dump="$BENCH_DIR/dump.sql"
  data_bytes="$(admin -e "SELECT SUM(data_length + index_length) FROM information_schema.tables WHERE table_schema = 'openemr'")"
  flags=(--defaults-extra-file="$ETC/client.cnf" --single-transaction --routines --hex-blob --no-tablespaces
    --ignore-table=openemr.onsite_activity_view openemr)
  # Warm-up, and the dump.sql the plain restore loads.
  mariadb-dump "${flags[@]}" >"$dump"

  # Three rounds, bare dump and backup alternating, and the median of each: one round on a
  # 2-core machine swings by 10-20%. A backup id has one-second resolution, hence the pause.
  local bare_dump backup backup_peak=0 plain_restore restore1 restore2 measured round
  local bare_runs=() backup_runs=()
  for round in 1 2 3; do
    # shellcheck disable=SC2016 # expanded by the inner bash
    bare_runs+=("$(seconds bash -c 'mariadb-dump "$@" >/dev/null' _ "${flags[@]}")")
    sleep 1
    measured="$({ measure "$REPO_ROOT/infra/host/bin/openemr-backup" 3>&1 >/dev/null 2>>"$BENCH_DIR/bench.log"; })"
    backup_runs+=("${measured% *}")
    ((${measured#* } > backup_peak)) && backup_peak="${measured#* }"
    printf 'round %s: mariadb-dump %.1f s, openemr-backup %.1f s\n' "$round" "${bare_runs[-1]}" "${backup_runs[-1]}" >&2
  done
  bare_dump="$(median "${bare_runs[@]}")"
  backup="$(median "${backup_runs[@]}")"
  local id
  id="$("$REPO_ROOT/infra/host/bin/openemr-backup" list --json | jq -r '.[0].id')"

  admin -e "CREATE DATABASE plain_restore CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
  # shellcheck disable=SC2016 # expanded by the inner bash
  plain_restore="$(seconds bash -c 'mariadb --defaults-extra-file="$1" plain_restore <"$2"' _ "$ETC/client.cnf" "$dump")"
  admin -e "DROP DATABASE plain_restore"
  # Both go the whole way: load beside, verify, swap. The second swaps over the first's tables,
  # as a restore over a live database does; each keeps the copy from before, dropped after.
  restore1="$(seconds "$REPO_ROOT/infra/host/bin/openemr-restore" --backup "$id" --database backup_restore --sites-dir "$BENCH_DIR/restore" --jobs 1)"
  restore2="$(seconds "$REPO_ROOT/infra/host/bin/openemr-restore" --backup "$id" --database backup_restore --sites-dir "$BENCH_DIR/restore" --jobs 2 --yes)"
  RESTORE_KEEP_DAYS=0 "$REPO_ROOT/infra/host/bin/openemr-restore" commit --expired 2>>"$BENCH_DIR/bench.log"
  admin -e "DROP DATABASE backup_restore"

  echo "timing binary log shipping (about one period of openemr-binlog-ship.timer)..." >&2
  local probes latency_median latency_max cycle ship_run logs_shipped logs_by_size
  binlog_latency >"$BENCH_DIR/binlog-latency"
  read -r probes latency_median latency_max cycle ship_run logs_shipped logs_by_size <"$BENCH_DIR/binlog-latency"

  local db_part
  db_part="$(jq '.parts[0].bytes' "$BENCH_DIR/backups/$id/manifest.json")"
  printf '\nopenemr-backup benchmark (MariaDB %s, %s cores, scale %s)\n' "$(admin -e 'SELECT VERSION()')" "$(nproc)" "$BENCH_SCALE"
  printf '  table data + indexes      %8.0f MB\n' "$(calc "$data_bytes / 1000000")"
  printf '  dump (uncompressed)       %8.0f MB\n' "$(calc "$(stat -c %s "$dump") / 1000000")"
  printf '  db.sql.zst                %8.0f MB\n' "$(calc "$db_part / 1000000")"
  printf '  mariadb-dump > /dev/null  %8.1f s   (median of 3)\n' "$bare_dump"
  printf '  openemr-backup            %8.1f s   %.2fx   (median of 3; target <= 1.15x)\n' "$backup" "$(calc "$backup / $bare_dump")"
  printf '  backup peak memory        %8.0f MB  (sum of RSS over the process group; target < 256 MB)\n' "$(calc "$backup_peak / 1024")"
  printf '  mariadb < dump.sql        %8.1f s\n' "$plain_restore"
  printf '  openemr-restore --jobs 1  %8.1f s   %.2fx   (load beside, verify, swap; target <= 1.0x)\n' \
    "$restore1" "$(calc "$restore1 / $plain_restore")"
  printf '  openemr-restore --jobs 2  %8.1f s   %.2fx   (the default on 2 cores; over existing tables)\n' \
    "$restore2" "$(calc "$restore2 / $plain_restore")"
  printf '  row commit -> binary log in the store, %s probes over the timer'"'"'s period (%s s start to start):\n' "$probes" "$cycle"
  printf '    median                  %8.1f s\n' "$latency_median"
  printf '    longest                 %8.1f s   (target <= 300 s)\n' "$latency_max"
  printf '    longest ship run        %8.1f s   (%s logs shipped, %s closed by size between runs)\n' \
    "$ship_run" "$logs_shipped" "$logs_by_size"
  rm -f "$dump"
}

main "$@"
