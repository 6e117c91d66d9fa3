# shellcheck shell=bash disable=SC2034 # RELEASE_* are results, read by the scripts that source this
# OpenEMR's code, the same for the bootstrap's first install, an upgrade and a rollback: the
# release downloaded and checked against its sha256, unpacked beside the live code, and locked
# down. Sourced after lib/common.sh and lib/verify.sh, never run.

# Removed once used: after the install, and after an upgrade's schema step.
SETUP_SCRIPTS=(admin.php acl_upgrade.php setup.php sql_patch.php sql_upgrade.php ippf_upgrade.php)

# The release tarball's URL: URL when given, else GitHub's for VERSION.
release_url() {
  local version=$1 url=${2:-}
  if [[ -n $url ]]; then
    printf '%s' "$url"
  else
    printf 'https://github.com/openemr/openemr/releases/download/v%s/openemr-%s.tar.gz' "${version//./_}" "$version"
  fi
}

fetch() {
  local url=$1 target=$2
  curl --fail --silent --show-error --location --proto '=https,file' --retry 3 --max-time 600 --output "$target" "$url" ||
    die "cannot download $url"
}

# Downloads release VERSION from URL to $OPENEMR_AWS_STATE/downloads, checks it against SHA256
# (empty: the .sha256 published beside it) and sets RELEASE_TARBALL to its path. Results go to
# variables, not standard output, so that die() ends the script, not a command substitution.
download_release() {
  local version=$1 url=$2 expected=$3 tarball published
  tarball=$OPENEMR_AWS_STATE/downloads/openemr-$version.tar.gz
  install -d -m 0700 "$OPENEMR_AWS_STATE/downloads"
  fetch "$url" "$tarball.part"
  if [[ -z $expected ]]; then
    published=$(mktemp)
    fetch "$url.sha256" "$published"
    expected=$(grep -Eo '^[0-9a-f]{64}' "$published" | head -n 1) || true
    rm -f "$published"
    [[ -n $expected ]] || die "published checksum $url.sha256 holds no sha256"
  fi
  verify_sha256 "$tarball.part" "$expected" || {
    rm -f "$tarball.part"
    die "refusing OpenEMR $version from $url: checksum mismatch (expected $expected)"
  }
  mv "$tarball.part" "$tarball"
  log "release openemr-$version verified: sha256 $expected"
  RELEASE_TARBALL=$tarball
}

# Unpacks TARBALL into a new staging directory beside the live code (same file system, so the
# swap is a rename), checks it holds openemr-VERSION/ with each of FILES and sets RELEASE_DIR to
# that directory. The caller moves it into place and removes RELEASE_STAGING.
unpack_release() {
  local tarball=$1 version=$2 staging top file
  shift 2
  staging=$(mktemp -d "$(dirname "$OPENEMR_WEB_ROOT")/.openemr-staging.XXXXXX")
  tar -xzf "$tarball" -C "$staging" --no-same-owner
  top=$staging/openemr-$version
  for file in index.php "$@"; do
    [[ -f $top/$file ]] || {
      rm -rf "$staging"
      die "release tarball has no openemr-$version/$file"
    }
  done
  RELEASE_STAGING=$staging
  RELEASE_DIR=$top
}

# OpenEMR's schema upgrade from release FROM to the code in CODE (default the live tree), as
# www-data: the one upgrader of `openemr-ops upgrade` (scripts/host/upgrade.sh) and of an ha host
# booting a newer release. sql_upgrade.php prints ERROR and may still exit 0, so its output
# decides. Removes the setup scripts whatever happened.
upgrade_database_schema() {
  local from=$1 code=${2:-$OPENEMR_WEB_ROOT} output status=0
  output=$(cd "$code" && runuser -u www-data -- php sql_upgrade.php --from="$from" 2>&1) || status=$?
  printf '%s\n' "$output" | redact | sed 's/^/  sql_upgrade: /'
  remove_setup_scripts "$code"
  if ((status != 0)) || grep -q 'ERROR' <<<"$output"; then
    die "sql_upgrade.php from $from failed (exit $status): $(grep -m 1 'ERROR' <<<"$output" | redact)"
  fi
}

remove_setup_scripts() {
  local code=$1 script
  for script in "${SETUP_SCRIPTS[@]}"; do
    rm -f "${code:?}/$script"
  done
  rm -rf "${code:?}/contrib/util/installScripts"
}

# Code read-only to the web server; only sites/<site>/documents writable, by www-data alone.
lock_down_code() {
  local code=$1 documents=$1/sites/$OPENEMR_SITE/documents
  chown -R root:www-data "$code"
  find "$code" -path "$documents" -prune -o -type d ! -perm 0750 -exec chmod 0750 {} +
  find "$code" -path "$documents" -prune -o -type f ! -perm 0440 -exec chmod 0440 {} +
  chown -R www-data:www-data "$documents"
  find "$documents" -type d ! -perm 0700 -exec chmod 0700 {} +
  find "$documents" -type f ! -perm 0600 -exec chmod 0600 {} +
}

# Where the bootstrap and the ops tool read the installed release (the bootstrap refuses to run
# when it and settings.env disagree); also written into settings.env's OPENEMR_VERSION.
record_installed_version() {
  local version=$1
  printf '%s\n' "$version" | install_text "$OPENEMR_AWS_STATE/openemr.version" >/dev/null
  grep -qx "OPENEMR_VERSION=$version" "$OPENEMR_AWS_SETTINGS" ||
    sed -i "s/^OPENEMR_VERSION=.*/OPENEMR_VERSION=$version/" "$OPENEMR_AWS_SETTINGS"
}
