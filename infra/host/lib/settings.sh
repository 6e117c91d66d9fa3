# shellcheck shell=bash
# The one reader of the host's settings and secrets, for the bootstrap and the backup scripts:
# settings.env (KEY=value lines, parsed, never sourced, so a stray line cannot run code) and
# the secrets (Secrets Manager on EC2, the root-only secrets.json on-prem). Each script checks
# the keys it needs and defines its own die(). Contract: docs/host-interface.md. Sourced.

OPENEMR_AWS_ETC=${OPENEMR_AWS_ETC:-/etc/openemr-aws}
OPENEMR_AWS_SETTINGS=$OPENEMR_AWS_ETC/settings.env
OPENEMR_AWS_SECRETS=$OPENEMR_AWS_ETC/secrets.json

# Sets and exports every KEY of settings.env; a value may be wrapped in matching quotes.
read_settings_file() {
  local line key value
  [[ -r $OPENEMR_AWS_SETTINGS ]] || die "settings file $OPENEMR_AWS_SETTINGS is missing or unreadable (see docs/host-interface.md)"
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    [[ $line =~ ^([A-Z][A-Z0-9_]*)=(.*)$ ]] || die "$OPENEMR_AWS_SETTINGS: cannot read line '${line%%=*}': expected KEY=value"
    key=${BASH_REMATCH[1]}
    value=${BASH_REMATCH[2]}
    if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then
      value=${BASH_REMATCH[1]}
    fi
    printf -v "$key" '%s' "$value"
    export "${key?}"
  done <"$OPENEMR_AWS_SETTINGS"
}

# Reads secret REFERENCE, a JSON object {"username", "password"}, into SECRET_JSON: from
# Secrets Manager (ec2) or secrets.json's member of that name (onprem). A variable, not
# standard output, so that die() here ends the script rather than a command substitution.
read_secret_json() {
  local reference=$1
  if [[ $OPENEMR_MODE == ec2 ]]; then
    SECRET_JSON=$(aws secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$reference" \
      --query SecretString --output text) || die "cannot read secret $reference from Secrets Manager"
  else
    [[ -f $OPENEMR_AWS_SECRETS ]] || die "secrets file $OPENEMR_AWS_SECRETS is missing; expected {\"<name>\": {\"username\": ..., \"password\": ...}}"
    [[ $(stat -c '%u %a' "$OPENEMR_AWS_SECRETS") == "0 600" ]] ||
      die "secrets file $OPENEMR_AWS_SECRETS must be owned by root with mode 0600 (it is $(stat -c '%U %a' "$OPENEMR_AWS_SECRETS"))"
    SECRET_JSON=$(jq -ce --arg name "$reference" '.[$name] // empty' "$OPENEMR_AWS_SECRETS") ||
      die "secrets file $OPENEMR_AWS_SECRETS has no member \"$reference\""
  fi
}

# Sets <prefix>_USER and <prefix>_PASSWORD from secret REFERENCE; values go to variables, never
# to a log, and the password to SECRET_VALUES for whoever masks output.
load_credentials() {
  local prefix=$1 reference=$2 username password
  read_secret_json "$reference"
  username=$(jq -er '.username | strings' <<<"$SECRET_JSON") || die "secret $reference has no string \"username\""
  password=$(jq -er '.password | strings' <<<"$SECRET_JSON") || die "secret $reference has no string \"password\""
  SECRET_JSON=""
  printf -v "${prefix}_USER" '%s' "$username"
  printf -v "${prefix}_PASSWORD" '%s' "$password"
  SECRET_VALUES+=("$password")
}

# A value for a MariaDB option file: double-quoted, with backslashes and double quotes escaped.
option_value() {
  local value=${1//\\/\\\\}
  printf '"%s"' "${value//\"/\\\"}"
}
