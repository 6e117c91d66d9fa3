# shellcheck shell=bash disable=SC2016 # backticks in single quotes are SQL quoting, not shell
# The bootstrap's steps, in the order bin/openemr-bootstrap runs them. Each step is safe to
# re-run: it checks before it changes, and restarts a service only when its config changed.
# Sourced, never run.

PHP_VERSION=8.4
FPM_SERVICE=php$PHP_VERSION-fpm

step_packages() {
  local lists=("$BUNDLE_DIR/packages/web.txt") wanted=() missing=() package
  [[ $OPENEMR_TIER == single ]] && lists+=("$BUNDLE_DIR/packages/db-server.txt")
  [[ $OPENEMR_TIER == ha ]] && lists+=("$BUNDLE_DIR/packages/ha.txt")
  mapfile -t wanted < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "${lists[@]}")
  # Debian 13 has no syslog file by default; the CloudWatch agent reads files.
  [[ $OPENEMR_MODE == ec2 ]] && wanted+=(rsyslog)
  for package in "${wanted[@]}"; do
    [[ $(dpkg-query -W -f '${Status}' "$package" 2>/dev/null) == "install ok installed" ]] || missing+=("$package")
  done
  if ((${#missing[@]} == 0)); then
    log "  all ${#wanted[@]} packages present"
    return 0
  fi
  log "  installing ${missing[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

# The Debian architecture of this host, as AWS names its agent packages: amd64 (x86_64) or
# arm64 (Graviton), the two it publishes them for.
agent_architecture() {
  local architecture
  architecture=$(dpkg --print-architecture) || die "dpkg cannot name this host's architecture"
  case $architecture in
    amd64 | arm64) printf '%s\n' "$architecture" ;;
    *) die "AWS publishes no SSM or CloudWatch agent package for architecture '$architecture'; expected amd64 or arm64" ;;
  esac
}

# Where AWS publishes the agents' Debian packages for ARCHITECTURE, in this host's region
# (signatures beside them, as .sig): the SSM agent, then the CloudWatch agent.
# https://docs.aws.amazon.com/systems-manager/latest/userguide/agent-install-deb.html
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/verify-CloudWatch-Agent-Package-Signature.html
agent_package_urls() {
  local architecture=$1
  printf '%s\n' \
    "https://s3.$AWS_REGION.amazonaws.com/amazon-ssm-$AWS_REGION/latest/debian_$architecture/amazon-ssm-agent.deb" \
    "https://amazoncloudwatch-agent-$AWS_REGION.s3.$AWS_REGION.amazonaws.com/debian/$architecture/latest/amazon-cloudwatch-agent.deb"
}

# EC2 only: the SSM and CloudWatch agents come from AWS, not Debian, and are installed only
# after their OpenPGP signatures check out against pinned keys.
step_aws_agents() {
  if [[ $OPENEMR_MODE != ec2 ]]; then
    log "  skipped: on-prem hosts have neither agent"
    return 0
  fi
  local work=$RUN_DIR/agents changed="" architecture ssm_url cloudwatch_url
  architecture=$(agent_architecture)
  { read -r ssm_url && read -r cloudwatch_url; } < <(agent_package_urls "$architecture")
  mkdir -p "$work"
  if ! dpkg-query -W amazon-ssm-agent >/dev/null 2>&1; then
    fetch "$ssm_url" "$work/ssm.deb"
    fetch "$ssm_url.sig" "$work/ssm.deb.sig"
    verify_signature "$work/ssm.deb" "$work/ssm.deb.sig" "$BUNDLE_DIR/keys/amazon-ssm-agent.asc" "$SSM_AGENT_KEY_FINGERPRINT"
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$work/ssm.deb"
  fi
  service_ensure amazon-ssm-agent no
  if ! dpkg-query -W amazon-cloudwatch-agent >/dev/null 2>&1; then
    fetch "$cloudwatch_url" "$work/cw.deb"
    fetch "$cloudwatch_url.sig" "$work/cw.deb.sig"
    fetch "https://amazoncloudwatch-agent-$AWS_REGION.s3.$AWS_REGION.amazonaws.com/assets/amazon-cloudwatch-agent.gpg" "$work/cw.gpg"
    verify_signature "$work/cw.deb" "$work/cw.deb.sig" "$work/cw.gpg" "$CLOUDWATCH_AGENT_KEY_FINGERPRINT"
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$work/cw.deb"
  fi
  [[ -n $(install_file "$BUNDLE_DIR/conf/rsyslog/30-openemr.conf" /etc/rsyslog.d/30-openemr.conf) ]] && service_restart rsyslog
  changed+=$(render_cloudwatch_config | install_text /opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json 0644)
  if [[ -n $changed ]] || ! service_running amazon-cloudwatch-agent; then
    /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s \
      -c file:/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json
  fi
}

# AWS's published signing-key fingerprints (SSM agent: the key shipped in keys/; CloudWatch
# agent: the key downloaded beside the package).
SSM_AGENT_KEY_FINGERPRINT=DE92C7DA3E56E92331D62A36BC1F495C97DD04ED
CLOUDWATCH_AGENT_KEY_FINGERPRINT=937616F3450B7D806CBD9725D58167303B789C72

# On `ha` the agent also appends the host's Auto Scaling group (the instance's
# aws:autoscaling:groupName tag, read with ec2:DescribeTags) and publishes memory and disk use per
# group beside the per-instance metrics: the stack alarms on the group, whose hosts come and go.
render_cloudwatch_config() {
  local config=$BUNDLE_DIR/conf/cloudwatch/amazon-cloudwatch-agent.json
  if [[ $OPENEMR_TIER == ha ]]; then
    # shellcheck disable=SC2016 # ${aws:AutoScalingGroupName} is the agent's placeholder, not the shell's
    jq '.metrics.append_dimensions.AutoScalingGroupName = "${aws:AutoScalingGroupName}"
      | .metrics.aggregation_dimensions += [["AutoScalingGroupName"], ["AutoScalingGroupName", "path"]]' "$config"
  else
    cat "$config"
  fi | sed -e "s|@LOG_GROUP_PREFIX@|${LOG_GROUP_PREFIX:-/openemr-aws/$OPENEMR_STACK}|g"
}

# The host's memory, shared out: on `single` a quarter (at least MariaDB's default 128 MB) goes to
# InnoDB's buffer pool; PHP-FPM gets as many workers as what is left carries, after the system
# (512 MB) and MariaDB's own overhead (256 MB, `single`), at PHP_WORKER_MB each (OpenEMR's pages
# use 30-80 MB; memory_limit stays 512M for the rare large report), between 8 and 20. So a 2 GiB
# host runs 8 workers beside MariaDB rather than 20 that could exhaust its memory.
PHP_WORKER_MB=80
memory_mb() { awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo; }
mariadb_buffer_pool_mb() {
  local pool=$(($1 / 4))
  ((pool >= 128)) || pool=128
  printf '%s\n' "$pool"
}
php_max_children() {
  local total=$1 reserved=512 workers
  [[ $OPENEMR_TIER == single ]] && reserved=$((reserved + $(mariadb_buffer_pool_mb "$total") + 256))
  workers=$(((total - reserved) / PHP_WORKER_MB))
  ((workers >= 8)) || workers=8
  ((workers <= 20)) || workers=20
  printf '%s\n' "$workers"
}

step_php() {
  local changed="" pool_dir=/etc/php/$PHP_VERSION/fpm/pool.d sapi
  for sapi in fpm cli; do
    changed+=$(install_file "$BUNDLE_DIR/conf/php/90-openemr.ini" "/etc/php/$PHP_VERSION/$sapi/conf.d/90-openemr.ini")
    changed+=$(printf '; Written by openemr-bootstrap from OPENEMR_UPLOAD_MAX_MB.\n[PHP]\nupload_max_filesize = %sM\npost_max_size = %sM\n' \
      "$OPENEMR_UPLOAD_MAX_MB" "$OPENEMR_UPLOAD_MAX_MB" | install_text "/etc/php/$PHP_VERSION/$sapi/conf.d/91-openemr-uploads.ini")
  done
  changed+=$(sed "s|@PHP_MAX_CHILDREN@|$(php_max_children "$(memory_mb)")|" "$BUNDLE_DIR/conf/php/openemr-pool.conf" |
    install_text "$pool_dir/openemr.conf")
  if [[ -n ${SESSION_CACHE_HOST:-} ]]; then
    read_session_cache_token
    changed+=$(render_session_config | install_text "/etc/php/$PHP_VERSION/fpm/conf.d/92-openemr-sessions.ini" 0640 root:www-data)
  fi
  if shared_sites; then
    changed+=$(render_opcache_blacklist | install_text "$OPCACHE_BLACKLIST")
    changed+=$(render_shared_site_opcache_config | install_text "/etc/php/$PHP_VERSION/fpm/conf.d/93-openemr-shared-site.ini")
  fi
  # Debian's default pool would run a second, unhardened set of workers: divert it away so
  # package upgrades do not bring it back.
  if [[ -e $pool_dir/www.conf ]]; then
    dpkg-divert --quiet --local --rename --divert "$pool_dir/www.conf.disabled" --add "$pool_dir/www.conf"
    changed+=yes
  fi
  install -d -o www-data -g www-data -m 0700 /var/lib/php/uploads
  "/usr/sbin/php-fpm$PHP_VERSION" --test >/dev/null 2>&1 || die "php-fpm rejects its configuration: $("/usr/sbin/php-fpm$PHP_VERSION" --test 2>&1 | tail -n 3 | tr '\n' ' ')"
  service_ensure "$FPM_SERVICE" "$([[ -n $changed ]] && echo yes || echo no)"
}

# ha: the shared site's sqlconf.php stays out of OPcache. With validate_timestamps off, PHP-FPM
# would otherwise keep the database password it first read until it is reloaded, and a rotation
# on one host (openemr-rotate-db-password) rewrites the file for every host but reloads only its
# own. Both the path PHP includes and the one it resolves to are listed.
OPCACHE_BLACKLIST=/etc/php/$PHP_VERSION/openemr-opcache-blacklist.txt
render_opcache_blacklist() {
  printf '%s\n' "$OPENEMR_WEB_ROOT/sites/$OPENEMR_SITE/sqlconf.php" "$SHARED_SITES_DIR/sqlconf.php"
}
render_shared_site_opcache_config() {
  printf '; Written by openemr-bootstrap: the shared site'"'"'s sqlconf.php is read afresh (lib/steps.sh).\n'
  printf '[opcache]\nopcache.blacklist_filename = %s\n' "$OPCACHE_BLACKLIST"
}

# ha: the Valkey AUTH token of SECRET_SESSION_CACHE ({"password": ...}), URL-encoded for
# session.save_path, in SESSION_CACHE_TOKEN; both forms are masked in output.
read_session_cache_token() {
  local token
  read_secret_json "$SECRET_SESSION_CACHE"
  token=$(jq -er '.password | strings' <<<"$SECRET_JSON") || die "secret $SECRET_SESSION_CACHE has no string \"password\""
  SECRET_JSON=""
  SESSION_CACHE_TOKEN=$(jq -rn --arg token "$token" '$token | @uri')
  SECRET_VALUES+=("$token" "$SESSION_CACHE_TOKEN")
}

# PHP-FPM's sessions in the group's Valkey, so a user stays signed in whichever host serves them:
# over TLS, verified as PHP verifies every tls:// stream by default (peer and name, against
# Debian's CA store, which holds ElastiCache's issuer), with AUTH. Root and www-data read it only.
render_session_config() {
  printf '; Written by openemr-bootstrap from SESSION_CACHE_HOST and SECRET_SESSION_CACHE.\n[Session]\n'
  printf 'session.save_handler = redis\nsession.save_path = "tls://%s:6379?auth=%s"\n' "$SESSION_CACHE_HOST" "$SESSION_CACHE_TOKEN"
}

# X.Y.Z from the code's own version.php, or "unknown".
installed_code_version() {
  # shellcheck disable=SC2016 # the $ are PHP's
  php -r 'include $argv[1]; echo "$v_major.$v_minor.$v_patch";' "$OPENEMR_WEB_ROOT/version.php" 2>/dev/null || echo unknown
}

# OpenEMR's installer writes `$config = 1` to sqlconf.php before it creates the administrator and
# the access controls, so sqlconf.php alone does not say an install finished: a marker beside it,
# in sites/ (on the data volume, so a rebuilt host sees it too), stands while one runs.
install_pending_file() { printf '%s\n' "$OPENEMR_WEB_ROOT/sites/$OPENEMR_SITE/.openemr-aws-install-pending"; }
install_unfinished() { [[ -e $(install_pending_file) ]]; }
site_configured() {
  # shellcheck disable=SC2016 # a literal PHP variable
  grep -Eq '^\$config[[:space:]]*=[[:space:]]*1[[:space:]]*;' "$OPENEMR_WEB_ROOT/sites/$OPENEMR_SITE/sqlconf.php" 2>/dev/null
}
site_installed() { ! install_unfinished && site_configured; }

# Downloads the pinned release, checks its sha256 (pinned, else the published .sha256) and
# puts the code in place. An installed site keeps its code: upgrades are their own procedure.
step_release() {
  local url
  if site_installed; then
    local installed
    # A host rebuilt on an existing DATA_DIR has no state yet: the code says what it is.
    installed=$(cat "$OPENEMR_AWS_STATE/openemr.version" 2>/dev/null || installed_code_version)
    [[ $installed == "$OPENEMR_VERSION" ]] ||
      die "OpenEMR $installed is installed but OPENEMR_VERSION is $OPENEMR_VERSION; upgrade with the upgrade procedure, not the bootstrap"
    record_installed_version "$installed"
    log "  OpenEMR $installed already installed"
    return 0
  fi
  url=$(release_url "$OPENEMR_VERSION" "${OPENEMR_RELEASE_URL:-}")
  download_release "$OPENEMR_VERSION" "$url" "${OPENEMR_SHA256:-}"
  unpack_release "$RELEASE_TARBALL" "$OPENEMR_VERSION" contrib/util/installScripts/InstallerAuto.php
  # Not installed yet, so nothing of the site's is lost by replacing a previous attempt; the
  # marker of an unfinished install moves to the new tree, so its database is emptied next.
  local unfinished=no
  install_unfinished && unfinished=yes
  # ha: sites/<site> is a symlink to the shared mount, so this removes the link, never the site.
  rm -rf "$OPENEMR_WEB_ROOT"
  mv "$RELEASE_DIR" "$OPENEMR_WEB_ROOT"
  link_shared_site
  [[ $unfinished == no ]] || : >"$(install_pending_file)"
  rm -rf "$RELEASE_STAGING"
  record_installed_version "$OPENEMR_VERSION"
  log "  OpenEMR $OPENEMR_VERSION unpacked in $OPENEMR_WEB_ROOT"
}

# ha (EFS_FILE_SYSTEM_ID set): the site's files live on EFS, mounted at SHARED_SITES_DIR, and
# sites/<site> in the code tree is a symlink to it. A symlink rather than a mount under the web
# root: replacing the code tree (rm -rf in step_release) then drops the link and never reaches
# into the shared files. The release's own sites/<site> is kept aside as the seed.
SHARED_SITES_DIR=${SHARED_SITES_DIR:-/srv/openemr-sites}
shared_sites() { [[ -n ${EFS_FILE_SYSTEM_ID:-} ]]; }
site_seed_dir() { printf '%s\n' "$OPENEMR_AWS_STATE/site-seed"; }
link_shared_site() {
  shared_sites || return 0
  local site_dir=$OPENEMR_WEB_ROOT/sites/$OPENEMR_SITE
  rm -rf "$(site_seed_dir)"
  mv "$site_dir" "$(site_seed_dir)"
  ln -s "$SHARED_SITES_DIR" "$site_dir"
  log "  sites/$OPENEMR_SITE linked to the shared $SHARED_SITES_DIR"
}

# Under the install lock (step_database): the first host fills the empty shared directory with
# the release's pristine site; after an install that did not finish, the partial site is
# replaced by the pristine one (its database is emptied beside it), keeping the marker.
seed_shared_site() {
  shared_sites || return 0
  [[ -z $(ls -A "$SHARED_SITES_DIR") ]] || install_unfinished || return 0
  [[ -d $(site_seed_dir) ]] || die "no release site to seed $SHARED_SITES_DIR with ($(site_seed_dir) is missing)"
  local unfinished=no
  install_unfinished && unfinished=yes
  find "$SHARED_SITES_DIR" -mindepth 1 -delete
  cp -R "$(site_seed_dir)/." "$SHARED_SITES_DIR/"
  # The web server's, as OpenEMR's installer writes there; EFS's access point makes every file
  # its POSIX user's (www-data) anyway, another NFS export may not.
  chown -R www-data:www-data "$SHARED_SITES_DIR"
  [[ $unfinished == no ]] || : >"$(install_pending_file)"
  log "  shared $SHARED_SITES_DIR seeded with the release's sites/$OPENEMR_SITE"
}

# The loopback port stunnel listens on for the NFS client (efs-utils picks one in 20049-21049;
# one mount per host needs only one).
EFS_TLS_PORT=20049
EFS_TLS_UNIT=openemr-efs-tls.service

# ha: mounts the EFS access point EFS_ACCESS_POINT_ID of EFS_FILE_SYSTEM_ID at SHARED_SITES_DIR
# with TLS in transit, as amazon-efs-utils' `mount -t efs -o tls,accesspoint=` does without IAM
# (Debian has no amazon-efs-utils): NFS 4.1 to stunnel on 127.0.0.1, stunnel to the file system's
# DNS name on 2049, checking EFS's certificate chain against Debian's CA bundle and its host
# name, and presenting a self-signed client certificate that names the access point (OID
# 1.3.6.1.4.1.4843.7.1) and the file system (.7.3): that is how EFS learns the access point.
# Unlike efs-utils: no IAM authorization (its SigV4 extension .7.2; the file system policy must
# not require IAM), no OCSP check of EFS's certificate (OCSPaia), and no watchdog: systemd's
# Restart= restarts a dead stunnel, and the certificate (efs-utils' lasts 3 hours and its
# watchdog renews it) lasts EFS_CLIENT_CERT_DAYS and is remade when the ids change or it ends
# within a week, here and daily by bin/openemr-renew-efs-certificate (its timer), which then
# restarts stunnel.
step_shared_sites() {
  if ! shared_sites; then
    log "  skipped: no EFS_FILE_SYSTEM_ID, sites/ stays in the code tree"
    return 0
  fi
  require_settings EFS_ACCESS_POINT_ID AWS_REGION
  local dir=$OPENEMR_AWS_ETC/efs changed=""
  install -d -m 0700 "$dir"
  changed+=$(ensure_efs_client_certificate "$dir")
  changed+=$(render_efs_stunnel_config "$dir" | install_text "$dir/stunnel.conf" 0600)
  changed+=$(render_efs_tls_unit "$dir" | install_text "/etc/systemd/system/$EFS_TLS_UNIT")
  [[ -z $changed ]] || systemctl daemon-reload
  if [[ -n $changed ]] || ! systemctl is-active --quiet "$EFS_TLS_UNIT"; then
    systemctl enable "$EFS_TLS_UNIT"
    systemctl restart "$EFS_TLS_UNIT"
  fi
  install -d -m 0755 "$SHARED_SITES_DIR"
  add_fstab_line "$(efs_fstab_line)"
  if ! mountpoint -q "$SHARED_SITES_DIR"; then
    mount "$SHARED_SITES_DIR"
    log "  EFS $EFS_FILE_SYSTEM_ID access point $EFS_ACCESS_POINT_ID mounted at $SHARED_SITES_DIR over TLS"
  fi
}

# No nofail, unlike the data volume's lines: a node without the shared site must fail its
# bootstrap (and so its health check) rather than install a site of its own.
efs_fstab_line() {
  printf '127.0.0.1:/ %s nfs4 nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport,port=%s,_netdev,x-systemd.requires=%s 0 0\n' \
    "$SHARED_SITES_DIR" "$EFS_TLS_PORT" "$EFS_TLS_UNIT"
}

efs_dns_name() { printf '%s.efs.%s.amazonaws.com\n' "$EFS_FILE_SYSTEM_ID" "$AWS_REGION"; }

# The client key (RSA 3072, as efs-utils) is made once; the certificate again when it does not
# name the current ids or ends within a week. Prints "changed" when it wrote. Called in a command
# substitution, where errexit is off: each failure dies explicitly, which ends that subshell.
ensure_efs_client_certificate() {
  local dir=$1 days=${EFS_CLIENT_CERT_DAYS:-365} text staged
  if [[ ! -s $dir/client.key ]]; then
    (umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$dir/client.key" 2>/dev/null) ||
      die "cannot make the EFS client key $dir/client.key"
  fi
  if [[ -s $dir/client.crt ]] && openssl x509 -checkend $((7 * 86400)) -noout -in "$dir/client.crt" >/dev/null; then
    text=$(openssl x509 -noout -text -in "$dir/client.crt")
    [[ $text == *"$EFS_ACCESS_POINT_ID"* && $text == *"$EFS_FILE_SYSTEM_ID"* ]] && return 0
  fi
  {
    printf '[ req ]\nprompt = no\ndistinguished_name = client_name\nx509_extensions = efs_client\n\n'
    printf '[ client_name ]\nCN = %s\n\n' "$(hostname | cut -c 1-64)"
    printf '[ efs_client ]\nsubjectKeyIdentifier = hash\n'
    printf '1.3.6.1.4.1.4843.7.1 = ASN1:UTF8String:%s\n' "$EFS_ACCESS_POINT_ID"
    printf '1.3.6.1.4.1.4843.7.3 = ASN1:UTF8String:%s\n' "$EFS_FILE_SYSTEM_ID"
  } >"$dir/client.cnf" || die "cannot write $dir/client.cnf"
  # Staged under a name of its own (mktemp: 0600) and renamed, so stunnel never reads half a
  # certificate and a bootstrap and the timer running at once do not write one file.
  staged=$(mktemp "$dir/client.crt.XXXXXX") || die "cannot write in $dir"
  if ! openssl req -new -x509 -sha256 -days "$days" -config "$dir/client.cnf" -key "$dir/client.key" -out "$staged" ||
    ! mv "$staged" "$dir/client.crt"; then
    rm -f "$staged"
    die "cannot write the EFS client certificate $dir/client.crt"
  fi
  log "  wrote $dir/client.crt (access point $EFS_ACCESS_POINT_ID, file system $EFS_FILE_SYSTEM_ID)"
  echo changed
}

render_efs_stunnel_config() {
  local dir=$1
  cat <<EOF
; Written by openemr-bootstrap from EFS_FILE_SYSTEM_ID and AWS_REGION (lib/steps.sh).
foreground = yes
fips = no
socket = l:SO_REUSEADDR=yes
socket = a:SO_BINDTODEVICE=lo

[efs]
client = yes
accept = 127.0.0.1:$EFS_TLS_PORT
connect = $(efs_dns_name):2049
sslVersionMin = TLSv1.2
renegotiation = no
TIMEOUTbusy = 20
TIMEOUTclose = 0
TIMEOUTidle = 70
delay = yes
verifyChain = yes
checkHost = $(efs_dns_name)
CAfile = /etc/ssl/certs/ca-certificates.crt
cert = $dir/client.crt
key = $dir/client.key
EOF
}

render_efs_tls_unit() {
  local dir=$1
  cat <<EOF
# Written by openemr-bootstrap (lib/steps.sh): TLS to EFS for the shared sites/ mount.
[Unit]
Description=stunnel from 127.0.0.1:$EFS_TLS_PORT to EFS $EFS_FILE_SYSTEM_ID
Wants=network-online.target
After=network-online.target
Before=remote-fs-pre.target

[Service]
ExecStart=/usr/bin/stunnel4 $dir/stunnel.conf
Restart=always
RestartSec=2

[Install]
WantedBy=multi-user.target
EOF
}

# DATA_DIR (optional; on EC2 `single` the data volume is mounted there): the host's data
# lives on that volume, so a replaced instance finds its site again. MariaDB's data goes to
# DATA_DIR/mysql (`single`); the whole web tree, OpenEMR's code and sites/, to DATA_DIR/www,
# bind-mounted at /var/www. All of /var/www, not only sites/: the upgrade swaps
# /var/www/openemr with its siblings by rename, which cannot cross a mount.
step_data() {
  if [[ -z ${DATA_DIR:-} ]]; then
    log "  skipped: no DATA_DIR, the data stays on the root volume"
    return 0
  fi
  [[ $OPENEMR_MODE == ec2 && -n ${DATA_VOLUME_ID:-} ]] && mount_data_volume
  install -d -m 0755 "$DATA_DIR"
  bind_web_tree
}

# EC2 single: the encrypted data volume, formatted on first use and mounted by UUID.
mount_data_volume() {
  local device=/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${DATA_VOLUME_ID//-/} uuid attempt
  mountpoint -q "$DATA_DIR" && return 0
  # The volume is attached by its own resource and may appear after first boot.
  for attempt in $(seq 60); do
    [[ -e $device ]] && break
    log "  waiting for data volume $DATA_VOLUME_ID ($attempt/60)"
    sleep 5
  done
  [[ -e $device ]] || die "data volume $DATA_VOLUME_ID is not attached (no $device)"
  blkid "$device" >/dev/null || mkfs.ext4 -q -L openemr-data "$device"
  uuid=$(blkid -s UUID -o value "$device")
  add_fstab_line "UUID=$uuid $DATA_DIR ext4 defaults,nofail,noatime 0 2"
  install -d -m 0755 "$DATA_DIR"
  mount "$DATA_DIR"
  log "  data volume $DATA_VOLUME_ID mounted at $DATA_DIR"
}

bind_web_tree() {
  local tree=$DATA_DIR/www
  if [[ ! -d $tree ]]; then
    # First use: the data directory takes over what the packages put in /var/www.
    rm -rf "$tree.new"
    install -d -m 0755 "$tree.new"
    cp -a /var/www/. "$tree.new/"
    mv "$tree.new" "$tree"
    log "  web tree copied to $tree"
  fi
  add_fstab_line "$tree /var/www none bind,nofail,x-systemd.requires-mounts-for=$DATA_DIR 0 0"
  if ! mountpoint -q /var/www; then
    mount /var/www
    log "  $tree mounted at /var/www"
  fi
}

# Both lines carry nofail: a missing data volume must not drop the host into emergency mode,
# where nothing, not even the SSM agent, could reach it.
add_fstab_line() {
  local line=$1
  grep -qxF -- "$line" /etc/fstab 2>/dev/null && return 0
  printf '%s\n' "$line" >>/etc/fstab
  log "  /etc/fstab: $line"
}

# single: the local MariaDB (only on 127.0.0.1), its data in DATA_DIR when there is one.
ensure_local_mariadb() {
  local changed=""
  changed+=$(install_file "$BUNDLE_DIR/conf/mariadb/90-openemr.cnf" /etc/mysql/mariadb.conf.d/90-openemr.cnf)
  changed+=$(install_file "$BUNDLE_DIR/conf/mariadb/92-openemr-binlog.cnf" /etc/mysql/mariadb.conf.d/92-openemr-binlog.cnf)
  changed+=$(printf '# Written by openemr-bootstrap: a quarter of the memory (lib/steps.sh).\n[mariadbd]\ninnodb_buffer_pool_size = %sM\n' \
    "$(mariadb_buffer_pool_mb "$(memory_mb)")" | install_text /etc/mysql/mariadb.conf.d/93-openemr-memory.cnf)
  if [[ -n ${DATA_DIR:-} ]]; then
    if [[ ! -d $DATA_DIR/mysql ]]; then
      service_running mariadb && service_stop mariadb
      rm -rf "$DATA_DIR/mysql.new"
      cp -a /var/lib/mysql "$DATA_DIR/mysql.new"
      mv "$DATA_DIR/mysql.new" "$DATA_DIR/mysql"
      log "  MariaDB data copied to $DATA_DIR/mysql"
    fi
    changed+=$(printf '[mariadbd]\ndatadir = %s/mysql\n' "$DATA_DIR" | install_text /etc/mysql/mariadb.conf.d/91-openemr-datadir.cnf)
  fi
  service_ensure mariadb "$([[ -n $changed ]] && echo yes || echo no)"
}

# EC2 standard: the RDS CA bundle, fetched once from AWS's trust store.
ensure_db_ca() {
  [[ -s $DB_CA_FILE ]] && return 0
  [[ $OPENEMR_MODE == ec2 ]] || die "DB_CA_FILE $DB_CA_FILE is missing; put the database server's CA bundle there"
  fetch "https://truststore.pki.rds.amazonaws.com/$AWS_REGION/$AWS_REGION-bundle.pem" "$DB_CA_FILE.part"
  grep -q 'BEGIN CERTIFICATE' "$DB_CA_FILE.part" || die "the RDS CA bundle downloaded for $AWS_REGION holds no certificate"
  install -m 0644 "$DB_CA_FILE.part" "$DB_CA_FILE"
  rm -f "$DB_CA_FILE.part"
}

# The database and its accounts (lib/db-grants.json). `single`: made here as root on the local
# socket; `standard` with SECRET_DB_MASTER (an on-prem server): made here with that master
# secret; `standard` or `ha` without it (AWS): the stack's database-users function has made them with
# the master secret the host never holds, and the host waits for the app account.
step_database() {
  if [[ $OPENEMR_TIER == single ]]; then
    ensure_local_mariadb
  else
    ensure_db_ca
  fi
  write_client_options "$RUN_DIR/app.cnf" "$DB_APP_USER" "$DB_APP_PASSWORD"
  if [[ $OPENEMR_TIER != single && -z ${SECRET_DB_MASTER:-} ]]; then
    wait_for_db_accounts
    # ha: whether an install is unfinished is decided under the install lock, so a host never
    # empties the database another host is installing into.
    site_installed || take_install_lock
    if install_unfinished; then
      log "  a previous install of $DB_NAME did not finish: emptying its partial database"
      db_app --execute="DROP DATABASE IF EXISTS \`$DB_NAME\`; $(create_database_sql)" ||
        die "cannot empty the partial database $DB_NAME as $DB_APP_USER"
    fi
    seed_shared_site
  else
    make_db_accounts
  fi
  db_app --execute='SELECT 1' "$DB_NAME" >/dev/null 2>"$RUN_DIR/db.err" ||
    die "app user $DB_APP_USER cannot connect to $DB_NAME: $(tr '\n' ' ' <"$RUN_DIR/db.err")"
  log "  database $DB_NAME and user $DB_APP_USER@$DB_APP_HOST ready"
}

# Waits (DB_ACCOUNTS_WAIT_SECONDS, default 600) for the app account, then checks the backup's
# and the restore's: on a first deploy the host may boot before the function has run.
wait_for_db_accounts() {
  local deadline=$((SECONDS + ${DB_ACCOUNTS_WAIT_SECONDS:-600})) role secret user password
  until db_app --execute='SELECT 1' "$DB_NAME" >/dev/null 2>"$RUN_DIR/db.err"; do
    ((SECONDS < deadline)) ||
      die "app user $DB_APP_USER cannot connect to $DB_NAME on $DB_HOST:$DB_PORT: $(tr '\n' ' ' <"$RUN_DIR/db.err")." \
        "The stack's database-users function makes the database accounts: see its log group" \
        "/aws/lambda/openemr-aws-$OPENEMR_STACK-db-users, then run pulumi up again"
    log "  waiting for the database accounts (app user $DB_APP_USER cannot connect yet)"
    sleep 10
  done
  for role in BACKUP RESTORE; do
    secret=SECRET_DB_$role
    [[ -n ${!secret:-} ]] || continue
    load_credentials "DB_$role" "${!secret}"
    user=DB_${role}_USER password=DB_${role}_PASSWORD
    write_client_options "$RUN_DIR/job.cnf" "${!user}" "${!password}"
    mariadb --defaults-extra-file="$RUN_DIR/job.cnf" --host="$DB_HOST" --port="$DB_PORT" --ssl-ca="$DB_CA_FILE" \
      --ssl-verify-server-cert --connect-timeout=10 --execute='SELECT 1' "$DB_NAME" >/dev/null 2>"$RUN_DIR/db.err" ||
      die "${role,,} user ${!user} cannot connect to $DB_NAME: $(tr '\n' ' ' <"$RUN_DIR/db.err")"
  done
  rm -f "$RUN_DIR/job.cnf"
}

# Makes the database and every account here, as root on the socket (single) or with the master
# secret of SECRET_DB_MASTER (standard on premises). OpenEMR itself never sees it.
make_db_accounts() {
  if [[ $OPENEMR_TIER != single ]]; then
    load_credentials DB_MASTER "$SECRET_DB_MASTER"
    write_client_options "$RUN_DIR/master.cnf" "$DB_MASTER_USER" "$DB_MASTER_PASSWORD"
  fi
  local server_version
  server_version=$(db_master --execute='SELECT VERSION()' 2>"$RUN_DIR/db.err") ||
    die "database $DB_HOST:$DB_PORT unreachable over TLS: $(tr '\n' ' ' <"$RUN_DIR/db.err")"
  log "  connected to $DB_HOST:$DB_PORT (server $server_version)"
  # A grant may name a privilege only one server has (lib/db-grants.json, "servers").
  DB_SERVER_KIND=mysql
  [[ $server_version == *MariaDB* ]] && DB_SERVER_KIND=mariadb

  if install_unfinished; then
    log "  a previous install of $DB_NAME did not finish: dropping its partial database"
    db_master --execute="DROP DATABASE IF EXISTS \`$DB_NAME\`"
  fi
  {
    printf '%s\n' "$(create_database_sql)"
    db_user_sql "$DB_APP_USER" "$DB_APP_PASSWORD"
    db_grants_sql app "$(db_account "$DB_APP_USER")"
    job_users_sql
  } | db_master || die "cannot create database $DB_NAME and its users"
}

# Runs OpenEMR's unattended installer as www-data with no root database access. It prints
# ERROR and still exits 0 on failure, so its output and sqlconf.php decide.
step_install() {
  local site_dir=$OPENEMR_WEB_ROOT/sites/$OPENEMR_SITE output status=0
  if [[ $OPENEMR_TIER != single ]]; then
    install -d -o www-data -g www-data -m 0700 "$site_dir/documents/certificates"
    install_file "$DB_CA_FILE" "$site_dir/documents/certificates/mysql-ca" 0600 www-data:www-data >/dev/null
  fi
  if site_installed; then
    log "  site $OPENEMR_SITE already installed"
    upgrade_shared_schema
    release_install_lock
    return 0
  fi
  # The installer writes into the code tree and sites/: www-data owns it until permissions are
  # locked down after a good install.
  chown -R www-data:www-data "$OPENEMR_WEB_ROOT"
  : >"$(install_pending_file)"
  output=$(cd "$OPENEMR_WEB_ROOT" && runuser -u www-data -- env OPENEMR_ENABLE_INSTALLER_AUTO=1 \
    php -f contrib/util/installScripts/InstallerAuto.php -- \
    server="$DB_HOST" port="$DB_PORT" login="$DB_APP_USER" pass="$DB_APP_PASSWORD" dbname="$DB_NAME" \
    loginhost="$DB_APP_HOST" collate=utf8mb4_general_ci site="$OPENEMR_SITE" no_root_db_access=1 \
    iuser="$ADMIN_USER" iuname=Administrator iuserpass="$ADMIN_PASSWORD" igroup=Default 2>&1) || status=$?
  printf '%s\n' "$output" | redact | sed 's/^/  installer: /'
  if ((status != 0)) || grep -q 'ERROR' <<<"$output"; then
    die "OpenEMR's installer failed (exit $status): $(grep -m 1 'ERROR' <<<"$output" | redact)"
  fi
  site_configured || die "OpenEMR's installer finished but sites/$OPENEMR_SITE/sqlconf.php does not say \$config = 1"
  rm -f "$(install_pending_file)"
  release_install_lock
  log "  site $OPENEMR_SITE installed"
}

# The release OpenEMR's schema is at (X.Y.Z from its version table), as the app user.
database_version() {
  db_app --execute="SELECT CONCAT_WS('.', v_major, v_minor, v_patch) FROM version" "$DB_NAME" 2>"$RUN_DIR/db.err" ||
    die "cannot read OpenEMR's version table in $DB_NAME: $(tr '\n' ' ' <"$RUN_DIR/db.err")"
}

# Whether release A is later than release B.
version_later() { [[ $1 != "$2" && $(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -n 1) == "$1" ]]; }

# ha: a new release reaches the hosts by an instance refresh, each new host booting the new code
# against the one shared database. The first to get the install lock upgrades the schema; the
# others, waiting on the lock, then find it done. A host of an earlier release than the schema
# (an old host still in service while the refresh runs, or a refresh rolling back) serves as it
# is, and says so: the schema is never taken back.
upgrade_shared_schema() {
  [[ $OPENEMR_TIER == ha ]] || return 0
  local code schema
  code=$(installed_code_version)
  [[ $code != unknown ]] || die "cannot read this host's OpenEMR release from $OPENEMR_WEB_ROOT/version.php"
  schema=$(database_version)
  if version_later "$schema" "$code"; then
    log "  WARNING: the database's schema is at OpenEMR $schema, later than this host's $code; serving $code on it"
    return 0
  fi
  [[ $schema != "$code" ]] || return 0
  take_install_lock "upgrades OpenEMR's database"
  # Read again under the lock: the host that held it may have upgraded the schema meanwhile.
  schema=$(database_version)
  if [[ $schema == "$code" ]]; then
    log "  the database's schema is at OpenEMR $code already (another host upgraded it)"
    return 0
  fi
  log "  upgrading the database's schema from OpenEMR $schema to $code"
  upgrade_database_schema "$schema"
  log "  database's schema upgraded from OpenEMR $schema to $code"
}

# 'USER'@'DB_APP_HOST': every account the host uses connects from where the app does.
db_account() { printf "'%s'@'%s'" "$1" "$DB_APP_HOST"; }

# Creates USER (or sets its password), TLS required where the database is remote.
db_user_sql() {
  local user=$1 password=$2 tls=""
  [[ $OPENEMR_TIER != single ]] && tls=" REQUIRE SSL"
  printf 'CREATE USER IF NOT EXISTS %s IDENTIFIED BY '"'%s'"'%s;\n' "$(db_account "$user")" "$password" "$tls"
  printf 'ALTER USER %s IDENTIFIED BY '"'%s'"'%s;\n' "$(db_account "$user")" "$password" "$tls"
}

# The backup's and the restore's own accounts, each with only what its job needs
# (lib/db-grants.json): the backup reads OpenEMR's database; the restore owns it and the scratch
# and kept copies named after it. On `single` also the binary log rights each job needs.
job_users_sql() {
  if [[ -n ${SECRET_DB_BACKUP:-} ]]; then
    load_credentials DB_BACKUP "$SECRET_DB_BACKUP"
    db_user_sql "$DB_BACKUP_USER" "$DB_BACKUP_PASSWORD"
    db_grants_sql backup "$(db_account "$DB_BACKUP_USER")"
  fi
  if [[ -n ${SECRET_DB_RESTORE:-} ]]; then
    load_credentials DB_RESTORE "$SECRET_DB_RESTORE"
    db_user_sql "$DB_RESTORE_USER" "$DB_RESTORE_PASSWORD"
    db_grants_sql restore "$(db_account "$DB_RESTORE_USER")"
  fi
}

# CREATE DATABASE for DB_NAME with the character set and collation of lib/db-grants.json.
create_database_sql() {
  jq -r --arg name "$DB_NAME" \
    '.database | "CREATE DATABASE IF NOT EXISTS `\($name)` CHARACTER SET \(.characterSet) COLLATE \(.collation);"' \
    "$BUNDLE_DIR/lib/db-grants.json"
}

# The GRANT statements of ROLE's account on this tier, from lib/db-grants.json: the one grant
# list, which the stack's database-users function applies on RDS. Scopes: `database` is DB_NAME,
# `copies` the restore's copies (DB_NAME\_%, `_` escaped in the LIKE pattern), `server` *.*.
db_grants_sql() {
  local role=$1 account=$2 copies=${DB_NAME//_/\\_}\\_%
  jq -r --arg role "$role" --arg tier "$OPENEMR_TIER" --arg server "${DB_SERVER_KIND:-mariadb}" --arg account "$account" \
    --arg database "\`$DB_NAME\`.*" --arg copies "\`$copies\`.*" '
    .accounts[] | select(.role == $role) | .grants[]
    | select(.tiers == null or (.tiers | index($tier)))
    | select(.servers == null or (.servers | index($server)))
    | "GRANT \(.privileges | join(", ")) ON \({database: $database, copies: $copies, server: "*.*"}[.on]) TO \($account);"
  ' "$BUNDLE_DIR/lib/db-grants.json"
}

# Globals a clinic expects to be safe (conf/openemr/globals.tsv), set on every run.
step_globals() {
  local name value sql=""
  while IFS=$'\t' read -r name value; do
    [[ -z $name || $name == \#* ]] && continue
    sql+="INSERT INTO globals (gl_name, gl_index, gl_value) VALUES ('$name', 0, '$value') ON DUPLICATE KEY UPDATE gl_value = VALUES(gl_value);"$'\n'
  done <"$BUNDLE_DIR/conf/openemr/globals.tsv"
  db_app "$DB_NAME" <<<"$sql" || die "cannot set OpenEMR globals in $DB_NAME"
  log "  $(grep -c $'^[^#].*\t' "$BUNDLE_DIR/conf/openemr/globals.tsv") globals set"
}

step_permissions() {
  remove_setup_scripts "$OPENEMR_WEB_ROOT"
  lock_down_code "$OPENEMR_WEB_ROOT"
  log "  code root:www-data read-only; sites/$OPENEMR_SITE/documents www-data only"
}

# The host's TLS certificate: one the operator put in tls/ (on-prem, a real one) is kept;
# otherwise a self-signed one, made here and renewed 30 days before it expires. The load balancer
# re-encrypts to the host without checking its certificate; clients see the load balancer's.
ensure_host_certificate() {
  local tls_dir=$OPENEMR_AWS_ETC/tls name=$1
  if [[ -s $tls_dir/host.crt && -s $tls_dir/host.key ]]; then
    [[ -e $tls_dir/host.self-signed ]] || return 0
    openssl x509 -checkend $((30 * 86400)) -noout -in "$tls_dir/host.crt" >/dev/null && return 0
  fi
  install -d -m 0700 "$tls_dir"
  (
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 397 -sha256 \
      -subj "/CN=$name" -addext "subjectAltName=DNS:$name" \
      -keyout "$tls_dir/host.key" -out "$tls_dir/host.crt" 2>/dev/null
  )
  chmod 0644 "$tls_dir/host.crt"
  : >"$tls_dir/host.self-signed"
  log "  made a self-signed host certificate for $name"
}

# TRUSTED_PROXY_CIDR (optional): the addresses of the proxies in front of the host, on AWS the
# VPC's range where the load balancer lives, space-separated IPv4 or IPv6 ranges. Empty: no proxy
# is trusted and X-Forwarded-For is ignored. Sets TRUSTED_PROXY_RANGES after checking each.
read_trusted_proxies() {
  local range
  read -ra TRUSTED_PROXY_RANGES <<<"${TRUSTED_PROXY_CIDR:-}"
  for range in "${TRUSTED_PROXY_RANGES[@]}"; do
    if [[ ! $range =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}(/([0-9]|[12][0-9]|3[0-2]))?$ &&
      ! $range =~ ^[0-9A-Fa-f]*:[0-9A-Fa-f:]*(/[0-9]{1,3})?$ ]] || [[ $range == */0 ]]; then
      die "$OPENEMR_AWS_SETTINGS: TRUSTED_PROXY_CIDR is '$TRUSTED_PROXY_CIDR'; expected address ranges such as 10.0.0.0/16 (the VPC's), space-separated, none of them /0, or empty"
    fi
  done
}

# conf/apache/openemr-remoteip.conf with the trusted ranges, or only a comment when there are none.
render_remoteip_config() {
  if ((${#TRUSTED_PROXY_RANGES[@]} == 0)); then
    printf '# Written by openemr-bootstrap: TRUSTED_PROXY_CIDR is empty, no proxy is trusted and X-Forwarded-For is ignored.\n'
    return 0
  fi
  sed "s|@TRUSTED_PROXY_CIDR@|${TRUSTED_PROXY_RANGES[*]}|g" "$BUNDLE_DIR/conf/apache/openemr-remoteip.conf"
}

# Apache last: the site is served only once everything behind it is in place.
step_apache() {
  local changed="" server_name module
  server_name=${OPENEMR_DOMAIN:-$(hostname -f 2>/dev/null || hostname)}
  read_trusted_proxies
  ensure_host_certificate "$server_name"
  changed+=$(install_file "$BUNDLE_DIR/conf/apache/openemr-hardening.conf" /etc/apache2/conf-available/openemr-hardening.conf)
  changed+=$(render_remoteip_config | install_text /etc/apache2/conf-available/openemr-remoteip.conf)
  changed+=$(sed "s|@SERVER_NAME@|$server_name|g" "$BUNDLE_DIR/conf/apache/openemr.conf" | install_text /etc/apache2/sites-available/openemr.conf)
  for module in ssl rewrite headers proxy_fcgi setenvif allowmethods remoteip; do
    [[ -e /etc/apache2/mods-enabled/$module.load ]] || {
      a2enmod -q "$module" >/dev/null
      changed+=yes
    }
  done
  for module in autoindex status cgi php$PHP_VERSION; do
    [[ -e /etc/apache2/mods-enabled/$module.load ]] && {
      a2dismod -q -f "$module" >/dev/null
      changed+=yes
    }
  done
  # Debian's security.conf would override ServerTokens and friends; openemr-hardening.conf holds them.
  for module in serve-cgi-bin security; do
    [[ -e /etc/apache2/conf-enabled/$module.conf ]] && {
      a2disconf -q "$module" >/dev/null
      changed+=yes
    }
  done
  for module in openemr-hardening openemr-remoteip; do
    [[ -e /etc/apache2/conf-enabled/$module.conf ]] || {
      a2enconf -q "$module" >/dev/null
      changed+=yes
    }
  done
  [[ -e /etc/apache2/sites-enabled/000-default.conf ]] && {
    a2dissite -q 000-default >/dev/null
    changed+=yes
  }
  [[ -e /etc/apache2/sites-enabled/openemr.conf ]] || {
    a2ensite -q openemr >/dev/null
    changed+=yes
  }
  apache2ctl configtest 2>"$RUN_DIR/apache.err" || die "Apache rejects its configuration: $(tr '\n' ' ' <"$RUN_DIR/apache.err")"
  service_ensure apache2 "$([[ -n $changed ]] && echo yes || echo no)"
}

# Takes the site off the air after a failed run, so nothing half-configured is served.
unserve_site() {
  if [[ -e /etc/apache2/sites-enabled/openemr.conf ]]; then
    a2dissite -q openemr >/dev/null 2>&1 || true
  fi
  if service_running apache2; then
    service_stop apache2 >/dev/null 2>&1 || true
  fi
}

# On-prem, the key that signs each backup's manifest (EC P-256, root's alone), made once; on
# EC2 the stack's KMS key signs (BACKUP_SIGNING_KEY_ID).
ensure_backup_signing_key() {
  local key=$OPENEMR_AWS_ETC/backup-signing.key
  [[ $OPENEMR_MODE == onprem && ! -s $key ]] || return 0
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$key" 2>/dev/null) ||
    die "cannot make the backup signing key $key"
  log "  made the backup signing key $key: keep a copy away from this host, a restore elsewhere needs it"
}

# The host's timers (their units ship in systemd/); enabled where systemd runs and they apply.
step_timers() {
  local unit changed=""
  ensure_backup_signing_key
  for unit in "$BUNDLE_DIR"/systemd/*.service "$BUNDLE_DIR"/systemd/*.timer; do
    [[ -e $unit ]] || continue
    changed+=$(install_file "$unit" "/etc/systemd/system/${unit##*/}")
  done
  if ! have_systemd; then
    log "  units installed; no systemd running, timers not enabled"
    return 0
  fi
  [[ -n $changed ]] && systemctl daemon-reload
  for unit in "$BUNDLE_DIR"/systemd/*.timer; do
    [[ -e $unit ]] || continue
    # Binary logs are shipped from a local MariaDB only; RDS keeps its own for point-in-time restore.
    [[ ${unit##*/} == openemr-binlog-ship.timer && $OPENEMR_TIER != single ]] && continue
    # Rotation writes Secrets Manager (ec2 only); on ha one host a day is elected to run it.
    [[ ${unit##*/} == openemr-rotate-db-password.timer && $OPENEMR_MODE != ec2 ]] && continue
    # The EFS client certificate exists only where sites/ is shared on EFS.
    [[ ${unit##*/} == openemr-renew-efs-certificate.timer ]] && ! shared_sites && continue
    systemctl enable --now --quiet "${unit##*/}"
  done
  log "  timers enabled"
}

# Sets KEY to VALUE in a "KEY VALUE" file such as /etc/login.defs, only when it differs.
set_config_word() {
  local file=$1 key=$2 value=$3
  if grep -Eq "^[[:space:]]*${key}[[:space:]]+${value}[[:space:]]*$" "$file"; then
    return 0
  fi
  if grep -Eq "^[[:space:]]*#?[[:space:]]*${key}[[:space:]]" "$file"; then
    sed -i -E "0,/^[[:space:]]*#?[[:space:]]*${key}[[:space:]].*/s//$key $value/" "$file"
  else
    printf '%s %s\n' "$key" "$value" >>"$file"
  fi
  log "  $file: $key $value"
}

# Security updates need Debian's security archive as an apt source. Debian's installer and its
# cloud images (the AMI) configure it; the bootstrap only checks, and leaves the choice of mirror
# or proxy to whoever set up apt. And unattended-upgrades must take that archive.
check_security_updates() {
  local codename suite targets config
  codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")
  [[ -n $codename ]] || die "/etc/os-release names no VERSION_CODENAME; expected Debian 13 (trixie)"
  suite=$codename-security
  # Every source apt would fetch, read from its configuration only (no download needed).
  targets=$(apt-get indextargets --no-release-info --format '$(RELEASE) $(TARGET_OF)') ||
    die "apt cannot read its sources (apt-get indextargets failed)"
  grep -qx "$suite deb" <<<"$targets" ||
    die "no apt source for $suite, Debian's security archive; add it as Debian's cloud images do, e.g. a stanza in /etc/apt/sources.list.d/debian.sources: 'Types: deb', 'URIs: https://deb.debian.org/debian-security', 'Suites: $suite', 'Components: main', 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg'"
  config=$(apt-config dump) || die "apt-config cannot read apt's configuration"
  if ! grep -qF 'APT::Periodic::Unattended-Upgrade "1";' <<<"$config" ||
    ! grep -qF 'Unattended-Upgrade::Origins-Pattern:: "origin=Debian,codename=${distro_codename}-security,label=Debian-Security";' <<<"$config"; then
    die "unattended-upgrades would not install from $suite: a file in /etc/apt/apt.conf.d/ overrides APT::Periodic::Unattended-Upgrade or Unattended-Upgrade::Origins-Pattern"
  fi
  log "  security updates: $suite is an apt source, unattended-upgrades takes it daily"
}

# Operating-system hardening around the application: login defaults, banners, no core dumps,
# unneeded kernel modules off, security updates, audit rules, accounting and statistics.
step_os_hardening() {
  local os=$BUNDLE_DIR/conf/os cron
  set_config_word /etc/login.defs UMASK 027
  set_config_word /etc/login.defs PASS_MAX_DAYS 365
  set_config_word /etc/login.defs PASS_MIN_DAYS 1
  install_file "$os/issue" /etc/issue >/dev/null
  install_file "$os/issue" /etc/issue.net >/dev/null
  install_file "$os/modprobe-openemr.conf" /etc/modprobe.d/openemr-hardening.conf >/dev/null
  install_file "$os/limits-openemr.conf" /etc/security/limits.d/openemr-hardening.conf >/dev/null
  install_file "$os/pwquality-openemr.conf" /etc/security/pwquality.conf.d/openemr.conf >/dev/null
  install_file "$os/20auto-upgrades" /etc/apt/apt.conf.d/20auto-upgrades >/dev/null
  install_file "$os/52openemr-unattended-upgrades" /etc/apt/apt.conf.d/52openemr-unattended-upgrades >/dev/null
  check_security_updates
  if grep -q '^CRON_CHECK=never' /etc/default/debsums 2>/dev/null; then
    sed -i 's/^CRON_CHECK=never/CRON_CHECK=weekly/' /etc/default/debsums
    log "  debsums checks installed files weekly"
  fi
  if grep -q '^ENABLED="false"' /etc/default/sysstat 2>/dev/null; then
    sed -i 's/^ENABLED="false"/ENABLED="true"/' /etc/default/sysstat
    log "  sysstat enabled"
  fi
  [[ -f /etc/crontab ]] && chmod 0600 /etc/crontab
  for cron in /etc/cron.d /etc/cron.hourly /etc/cron.daily /etc/cron.weekly /etc/cron.monthly; do
    [[ -d $cron ]] && chmod 0700 "$cron"
  done
  local sysctl_changed audit_changed
  sysctl_changed=$(install_file "$os/sysctl-openemr.conf" /etc/sysctl.d/90-openemr-hardening.conf)
  audit_changed=$(install_file "$os/audit-openemr.rules" /etc/audit/rules.d/openemr.rules 0640)
  # A container or chroot shares its host's kernel: kernel settings and audit rules are only
  # loaded where systemd runs this machine.
  if have_systemd; then
    [[ -n $sysctl_changed ]] && sysctl --quiet --system
    [[ -n $audit_changed ]] && augenrules --load >/dev/null
    service_ensure auditd no
    service_ensure sysstat no
    service_ensure acct no
  fi
  return 0
}
