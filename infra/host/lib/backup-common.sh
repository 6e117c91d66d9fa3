# shellcheck shell=bash
# Shared by openemr-backup and openemr-restore, on top of lib/common.sh: the database client,
# backup storage (S3 on EC2, a directory on-prem), checksums and metrics.
# Contract: docs/host-interface.md. Sourced by scripts that already run `set -Eeuo pipefail`.

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# Run by a timer or by hand, with nothing else capturing the output: log() also journals it.
LOG_TO_JOURNAL=yes

# Backup ids are the UTC start time; anything else in the folder is ignored.
BACKUP_ID_PATTERN='^[0-9]{8}T[0-9]{6}Z$'

# settings.env through lib/common.sh, and the keys backup and restore cannot do without.
load_backup_settings() {
  load_settings
  case $OPENEMR_MODE in
    ec2) require_settings OPENEMR_STACK BACKUP_BUCKET BACKUP_PREFIX BACKUP_KMS_KEY_ID ;;
    onprem) require_settings BACKUP_DIR ;;
  esac
  require_settings DB_NAME
  OPENEMR_VERSION=${OPENEMR_VERSION:-}
  DB_CA_FILE=${DB_CA_FILE:-}
  SECRET_DB_MASTER=${SECRET_DB_MASTER:-}
  SECRET_DB_BACKUP=${SECRET_DB_BACKUP:-}
  SECRET_DB_RESTORE=${SECRET_DB_RESTORE:-}
  SECRET_DB_APP=${SECRET_DB_APP:-}
  # On-prem the bootstrap makes the key here; a host without one writes unsigned backups.
  if [[ $OPENEMR_MODE == onprem && -z ${BACKUP_SIGNING_KEY_FILE:-} && -f $OPENEMR_AWS_ETC/backup-signing.key ]]; then
    BACKUP_SIGNING_KEY_FILE=$OPENEMR_AWS_ETC/backup-signing.key
  fi
}

# A private directory for the client option file (credentials) and part checksums, named after
# the process so the next run can tell it is stale: removed on exit, and by the next backup or
# restore when a killed run left it behind (only directories of processes no longer alive).
make_runtime_dir() {
  local base=${OPENEMR_AWS_RUN:-/run/openemr-aws} stale pid
  install -d -m 0700 "$base"
  for stale in "$base"/openemr-backup.* "$base"/openemr-restore.*; do
    [[ -d $stale ]] || continue
    pid=${stale##*.}
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && continue
    rm -rf -- "$stale"
    log "removed $stale, left by a run that did not finish (it may have held credentials)"
  done
  RUN_DIR=$base/$PROG.$$
  rm -rf -- "$RUN_DIR"
  install -d -m 0700 "$RUN_DIR"
}

# Writes the [client] option file every mariadb/mariadb-dump call reads with
# --defaults-extra-file, so the password is never on a command line. The account is the job's
# own (SECRET_DB_BACKUP for a backup, SECRET_DB_RESTORE for a restore or drill, created by the
# bootstrap with only what the job needs); where settings.env names none (an older on-prem
# install), the master secret, and with none of them root over the local socket.
write_db_client_options() {
  local job_secret=$1 secret
  secret=${job_secret:-$SECRET_DB_MASTER}
  DB_OPTIONS="$RUN_DIR/client.cnf"
  [[ -n $secret ]] && load_credentials DB_JOB "$secret"
  (
    umask 077
    {
      printf '[client]\n'
      printf 'default-character-set=utf8mb4\n'
      if [[ -n $secret ]]; then
        printf 'user=%s\n' "$(option_value "$DB_JOB_USER")"
        printf 'password=%s\n' "$(option_value "$DB_JOB_PASSWORD")"
      fi
      if [[ "$DB_HOST" != localhost ]]; then
        printf 'host=%s\nport=%s\n' "$(option_value "$DB_HOST")" "$DB_PORT"
        if [[ -n "$DB_CA_FILE" ]]; then
          printf 'ssl-ca=%s\nssl-verify-server-cert\n' "$(option_value "$DB_CA_FILE")"
        fi
      fi
    } >"$DB_OPTIONS"
  )
}

# Manifests are signed so a restore can tell a backup this host made from one written by
# whoever could write to the store: on EC2 with the stack's asymmetric KMS key
# (BACKUP_SIGNING_KEY_ID; the private half never leaves KMS), on-prem with an EC P-256 key
# file (BACKUP_SIGNING_KEY_FILE, made by the bootstrap). The signature covers a one-line
# statement naming the backup and its manifest's sha256, short enough for KMS's RAW messages.
signed_statement() { printf 'openemr-aws backup %s manifest sha256 %s\n' "$1" "$2"; }

signing_configured() {
  if [[ $OPENEMR_MODE == ec2 ]]; then [[ -n ${BACKUP_SIGNING_KEY_ID:-} ]]; else [[ -n ${BACKUP_SIGNING_KEY_FILE:-} ]]; fi
}

# Prints manifest.sig for backup ID's manifest file: {"format", "manifest_sha256", "signature"}.
sign_manifest() {
  local id=$1 manifest=$2 sha signature
  sha=$(sha256sum -- "$manifest" | cut -c1-64)
  signed_statement "$id" "$sha" >"$RUN_DIR/statement"
  if [[ $OPENEMR_MODE == ec2 ]]; then
    signature=$(aws kms sign --key-id "$BACKUP_SIGNING_KEY_ID" --message "fileb://$RUN_DIR/statement" \
      --message-type RAW --signing-algorithm ECDSA_SHA_256 --query Signature --output text) || return 1
  else
    signature=$(openssl dgst -sha256 -sign "$BACKUP_SIGNING_KEY_FILE" "$RUN_DIR/statement" | base64 -w 0) || return 1
  fi
  jq -nc --arg sha "$sha" --arg signature "$signature" '{format: 1, manifest_sha256: $sha, signature: $signature}'
}

# Succeeds when SIGNATURE_FILE is a good signature of backup ID's MANIFEST by this host's key;
# otherwise prints why and fails. The public key comes from the settings, never the backup.
verify_manifest_signature() {
  local id=$1 manifest=$2 signature_file=$3 sha
  jq -e '.format == 1 and (.manifest_sha256 | type == "string" and test("^[0-9a-f]{64}$"))
    and (.signature | type == "string" and test("^[A-Za-z0-9+/=]+$"))' "$signature_file" >/dev/null 2>&1 || {
    printf 'manifest.sig is not a valid signature file'
    return 1
  }
  sha=$(sha256sum -- "$manifest" | cut -c1-64)
  [[ $sha == "$(jq -r .manifest_sha256 "$signature_file")" ]] || {
    printf 'manifest.json is not the manifest that was signed'
    return 1
  }
  if [[ $OPENEMR_MODE == ec2 ]]; then
    if ! aws kms get-public-key --key-id "$BACKUP_SIGNING_KEY_ID" --query PublicKey --output text |
      base64 -d >"$RUN_DIR/signing.der" ||
      ! openssl pkey -pubin -inform DER -in "$RUN_DIR/signing.der" -out "$RUN_DIR/signing.pub" 2>/dev/null; then
      printf 'cannot read the public half of signing key %s' "$BACKUP_SIGNING_KEY_ID"
      return 1
    fi
  else
    openssl pkey -in "$BACKUP_SIGNING_KEY_FILE" -pubout -out "$RUN_DIR/signing.pub" 2>/dev/null || {
      printf 'cannot read signing key %s' "$BACKUP_SIGNING_KEY_FILE"
      return 1
    }
  fi
  signed_statement "$id" "$sha" >"$RUN_DIR/statement"
  jq -r .signature "$signature_file" | base64 -d >"$RUN_DIR/signature.bin"
  openssl dgst -sha256 -verify "$RUN_DIR/signing.pub" -signature "$RUN_DIR/signature.bin" "$RUN_DIR/statement" >/dev/null 2>&1 || {
    printf 'the signature does not match this host'"'"'s signing key'
    return 1
  }
}

# Binary logs are this host's to ship when the server is local and logs: RDS (standard) keeps
# its own for its point-in-time restore, and does not allow the read lock --master-data takes.
binlog_is_local() {
  [[ $DB_HOST == localhost && $(db_query -e 'SELECT @@log_bin') == 1 ]]
}

# Client options for loading a restore or drill: on a local server that logs, the load stays
# out of the binary log (it is a copy of old data, not a change to replay).
# shellcheck disable=SC2034 # UNLOGGED_LOAD is read by openemr-restore
unlogged_load_options() {
  UNLOGGED_LOAD=()
  binlog_is_local && UNLOGGED_LOAD=(--init-command="SET sql_log_bin=0")
  return 0
}

# shellcheck disable=SC2034 # MYSQLDUMP_BIN is used by openemr-backup
pick_db_clients() {
  MYSQL_BIN="$(command -v mariadb || command -v mysql)" || die "no mariadb client installed"
  MYSQLDUMP_BIN="$(command -v mariadb-dump || command -v mysqldump)" || die "no mariadb-dump installed"
}

db_query() {
  "$MYSQL_BIN" --defaults-extra-file="$DB_OPTIONS" --batch --skip-column-names "$@"
}

# Checksum and size of a stream: tee copies it to sha256sum and wc through FIFOs, so the
# part is hashed as it is written and never staged. Writes <state>.sha256 and <state>.bytes.
hash_stream_start() {
  local state="$1"
  mkfifo "$state.sha.fifo" "$state.len.fifo"
  sha256sum <"$state.sha.fifo" | cut -c1-64 >"$state.sha256" &
  HASH_PIDS+=("$!")
  wc -c <"$state.len.fifo" >"$state.bytes" &
  HASH_PIDS+=("$!")
}

hash_stream_tee() {
  tee "$1.sha.fifo" "$1.len.fifo"
}

hash_stream_wait() {
  local pid
  for pid in "${HASH_PIDS[@]}"; do
    wait "$pid"
  done
  HASH_PIDS=()
}

# Storage: a backup is <location>/<id>/<part>. On EC2 the location is
# s3://BACKUP_BUCKET/BACKUP_PREFIX, on-prem the directory BACKUP_DIR.
storage_url() {
  if [[ "$OPENEMR_MODE" == ec2 ]]; then
    printf 's3://%s/%s/%s/%s' "$BACKUP_BUCKET" "$BACKUP_PREFIX" "$1" "$2"
  else
    printf '%s/%s/%s' "${BACKUP_DIR%/}" "$1" "$2"
  fi
}

# Reads the part from stdin. expected_size lets the CLI choose a multipart chunk size that
# stays under S3's 10,000-part limit for a stream of that size.
storage_put() {
  local id="$1" part="$2" expected_size="${3:-}"
  if [[ "$OPENEMR_MODE" == ec2 ]]; then
    local extra=()
    [[ -n "$expected_size" ]] && extra=(--expected-size "$expected_size")
    # Object Lock buckets refuse an upload without a checksum. Debian 13's AWS CLI (2.23) sends one
    # by default; named here so AWS_REQUEST_CHECKSUM_CALCULATION=when_required cannot drop it.
    aws s3 cp - "$(storage_url "$id" "$part")" --only-show-errors --checksum-algorithm CRC32 \
      --sse aws:kms --sse-kms-key-id "$BACKUP_KMS_KEY_ID" "${extra[@]}"
  else
    (umask 077 && mkdir -p "${BACKUP_DIR%/}/$id" && cat >"$(storage_url "$id" "$part")")
  fi
}

storage_get() {
  if [[ "$OPENEMR_MODE" == ec2 ]]; then
    aws s3 cp "$(storage_url "$1" "$2")" - --only-show-errors
  else
    cat -- "$(storage_url "$1" "$2")"
  fi
}

storage_has() {
  if [[ "$OPENEMR_MODE" == ec2 ]]; then
    aws s3api head-object --bucket "$BACKUP_BUCKET" --key "$BACKUP_PREFIX/$1/$2" >/dev/null 2>&1
  else
    [[ -f "$(storage_url "$1" "$2")" ]]
  fi
}

# The part names in folder ID of the backup store, one a line, sorted.
storage_list_parts() {
  if [[ "$OPENEMR_MODE" == ec2 ]]; then
    aws s3api list-objects-v2 --bucket "$BACKUP_BUCKET" --prefix "$BACKUP_PREFIX/$1/" --output json |
      jq -r --arg prefix "$BACKUP_PREFIX/$1/" '.Contents // [] | .[].Key | ltrimstr($prefix)' | sort
  else
    [[ -d "${BACKUP_DIR%/}/$1" ]] || return 0
    find "${BACKUP_DIR%/}/$1" -maxdepth 1 -type f -printf '%f\n' | sort
  fi
}

# One JSON line per backup, newest first: {"id", "bytes", "complete"}.
storage_list() {
  if [[ "$OPENEMR_MODE" == ec2 ]]; then
    aws s3api list-objects-v2 --bucket "$BACKUP_BUCKET" --prefix "$BACKUP_PREFIX/" --output json |
      jq -c --arg prefix "$BACKUP_PREFIX/" --arg pattern "$BACKUP_ID_PATTERN" '
        [.Contents // [] | .[]
          | {rel: (.Key | ltrimstr($prefix)), bytes: .Size}
          | select(.rel | contains("/"))
          | {id: (.rel | split("/")[0]), part: (.rel | split("/")[1:] | join("/")), bytes}
          | select(.id | test($pattern))]
        | group_by(.id)
        | map({id: .[0].id, bytes: (map(.bytes) | add), complete: any(.[]; .part == "manifest.json")})
        | sort_by(.id) | reverse | .[]'
  else
    [[ -d "$BACKUP_DIR" ]] || return 0
    local dir id bytes complete
    for dir in "${BACKUP_DIR%/}"/*/; do
      id="$(basename "$dir")"
      [[ "$id" =~ $BACKUP_ID_PATTERN ]] || continue
      bytes="$(find "$dir" -maxdepth 1 -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')"
      complete=false
      [[ -f "$dir/manifest.json" ]] && complete=true
      jq -nc --arg id "$id" --argjson bytes "$bytes" --argjson complete "$complete" \
        '{id: $id, bytes: $bytes, complete: $complete}'
    done | jq -sc 'sort_by(.id) | reverse | .[]'
  fi
}

# Publishes one CloudWatch metric on EC2 (namespace OpenEMR, dimension Stack); a failure
# to publish is logged, never fatal, so it cannot mask the job's own result.
put_metric() {
  [[ "$OPENEMR_MODE" == ec2 ]] || return 0
  local name="$1" value="$2" unit="$3"
  aws cloudwatch put-metric-data --namespace OpenEMR \
    --metric-data "MetricName=$name,Value=$value,Unit=$unit,Dimensions=[{Name=Stack,Value=$OPENEMR_STACK}]" ||
    log "warning: could not publish metric $name"
}

# One backup or restore at a time on this host (or one of another job, given its lock file).
# shellcheck disable=SC2120 # the lock file argument is for openemr-backup ship-binlogs
take_lock() {
  local lock_file="${1:-${OPENEMR_AWS_LOCK:-/run/lock/openemr-backup.lock}}"
  mkdir -p -- "$(dirname "$lock_file")"
  exec {LOCK_FD}>"$lock_file" || die "cannot open lock file $lock_file"
  flock -n "$LOCK_FD" || die "another backup or restore is running (lock $lock_file)"
}

# Table names come from the dump and the manifest; only plain names are used in SQL.
# shellcheck disable=SC2034 # used by the scripts that source this file
TABLE_NAME_PATTERN='^[A-Za-z0-9_$]{1,64}$'

# Passes a mariadb-dump stream through unchanged and writes "<table>\t<rows>" lines to $1
# when it ends, and "<binlog file>\t<position>" to $1.binlog when the dump names one. The
# counts are read from the dump itself, so they belong to the dump's own consistent snapshot
# exactly; a second connection could not share that snapshot. No tool counts rows in a dump
# stream, hence these lines of Perl (perl-base is on every Debian host). The stream is copied in 1 MB blocks and scanned for statement boundaries only, so
# the backup keeps the bare dump's pace: string literals never span lines (mariadb-dump
# escapes newlines), MariaDB writes "INSERT INTO `t` VALUES" alone on a line and then one
# row a line up to the first ");" that ends a line, so a statement's rows are its newlines.
# A one-line INSERT (MySQL's client) is counted by removing string literals and counting
# the "(" left, one a row. Both pipes are widened to 1 MB (F_SETPIPE_SZ, 1031): with Linux's
# 64 KB default, every stage of the stream wakes up per 64 KB and the backup ran 1.3x slower.
count_dump_rows() {
  # shellcheck disable=SC2016 # Perl code, not shell expansions
  perl -e '
    use strict; use warnings;
    my $out = shift;
    my (%rows, @tables, $table);
    sub scan {
      my ($buf) = @_;
      my ($pos, $len) = (1, length $buf);
      while ($pos < $len) {
        if (defined $table) {
          my $end = index($buf, ");\n", $pos);
          my $stop = $end < 0 ? $len : $end + 3;
          $rows{$table} += (substr($buf, $pos, $stop - $pos) =~ tr/\n//);
          undef $table if $end >= 0;
          $pos = $stop;
          next;
        }
        my $insert = index($buf, "\nINSERT INTO `", $pos - 1);
        my $create = index($buf, "\nCREATE TABLE `", $pos - 1);
        last if $insert < 0 && $create < 0;
        my $start = 1 + (($insert < 0 || ($create >= 0 && $create < $insert)) ? $create : $insert);
        my $eol = index($buf, "\n", $start);
        my $line = substr($buf, $start, $eol - $start);
        $pos = $eol + 1;
        if ($line =~ /^CREATE TABLE `([^`]+)` \(/) {
          push @tables, $1 unless exists $rows{$1};
          $rows{$1} //= 0;
        } elsif ($line =~ /^INSERT INTO `([^`]+)` VALUES$/) {
          $table = $1;
        } elsif ($line =~ /^INSERT INTO `([^`]+)` VALUES /) {
          my $name = $1;
          (my $values = substr($line, $+[0])) =~ s/\x27[^\x27\\]*+(?:\\.[^\x27\\]*+)*+\x27//g;
          $rows{$name} += ($values =~ tr/(//);
        }
      }
    }
    binmode STDIN; binmode STDOUT;
    fcntl(STDIN, 1031, 1 << 20);
    fcntl(STDOUT, 1031, 1 << 20);
    my ($block, $carry, $coordinates, $seen) = ("", "", undef, 0);
    while (1) {
      my $read = sysread(STDIN, $block, 1 << 20);
      die "count_dump_rows: read failed: $!\n" unless defined $read;
      last if $read == 0;
      # --master-data=2 writes the binary log position of the snapshot in the header.
      if (!defined $coordinates && $seen < (1 << 20)
        && $block =~ /^-- CHANGE MASTER TO MASTER_LOG_FILE=\x27([^\x27]+)\x27, MASTER_LOG_POS=(\d+);/m) {
        $coordinates = "$1\t$2";
      }
      $seen += $read;
      for (my $done = 0; $done < $read;) {
        my $written = syswrite(STDOUT, $block, $read - $done, $done);
        die "count_dump_rows: write failed: $!\n" unless defined $written;
        $done += $written;
      }
      my $cut = rindex($block, "\n");
      if ($cut < 0) { $carry .= $block; next; }
      scan("\n" . $carry . substr($block, 0, $cut + 1));
      $carry = substr($block, $cut + 1);
    }
    scan("\n" . $carry . "\n") if length $carry;
    open my $fh, ">", $out or die "count_dump_rows: $out: $!\n";
    print {$fh} "$_\t$rows{$_}\n" for @tables;
    close $fh or die "count_dump_rows: $out: $!\n";
    if (defined $coordinates) {
      open my $bh, ">", "$out.binlog" or die "count_dump_rows: $out.binlog: $!\n";
      print {$bh} "$coordinates\n";
      close $bh or die "count_dump_rows: $out.binlog: $!\n";
    }
  ' "$1"
}

# Keeps the dump's header plus either the sections of the tables listed in $2 (mode
# "tables") or everything that is not a table: views, routines, the footer (mode "rest").
# mariadb-dump starts every section with a "-- <kind> for ..." comment line; a table's
# structure, data and triggers form one section. Used to load tables in parallel. The pipes
# are widened as in count_dump_rows.
filter_dump_sections() {
  # shellcheck disable=SC2016 # Perl code, not shell expansions
  perl -e '
    use strict; use warnings;
    my ($mode, $list) = @ARGV;
    my %wanted;
    if ($mode eq "tables") {
      open my $fh, "<", $list or die "filter_dump_sections: $list: $!\n";
      while (<$fh>) { chomp; $wanted{$_} = 1 }
    }
    my $keep = 1;
    binmode STDIN; binmode STDOUT;
    fcntl(STDIN, 1031, 1 << 20);
    fcntl(STDOUT, 1031, 1 << 20);
    while (<STDIN>) {
      if (substr($_, 0, 3) eq "-- ") {
        if (/^-- Table structure for table `([^`]+)`$/) {
          $keep = $mode eq "tables" && exists $wanted{$1};
        } elsif (/^-- (?:Temporary table structure for view|Dumping routines|Final view structure|Dumping events)/) {
          $keep = $mode eq "rest";
        }
      }
      print or die "filter_dump_sections: write failed: $!\n" if $keep;
    }
    close STDOUT or die "filter_dump_sections: write failed: $!\n";
  ' "$1" "${2:-}"
}
