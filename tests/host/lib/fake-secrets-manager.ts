/**
 * A stand-in for `aws secretsmanager`, installed in a test root as /usr/local/bin/aws: a secret's
 * versions are files in /srv/sm/versions/<version id>, its stages files in /srv/sm/stages/<stage>
 * holding a version id, and every change is logged to /srv/sm/calls. Every version was created
 * on 2026-01-01 (so a rotation is due). `--query SecretString --output text` prints the secret
 * string alone, as the host's read_secret_json asks for it. One secret a root: --secret-id is
 * not read.
 */
export const FAKE_SECRETS_MANAGER_CLI = `#!/bin/sh
# secretsmanager CMD [--version-stage S] [--client-request-token T] [--secret-string file://F]
#   [--move-to-version-id M] [--remove-from-version-id R] [--query SecretString] ...
cmd=$2; shift 2
stage=AWSCURRENT
while [ $# -gt 0 ]; do
  case $1 in
    --version-stage) stage=$2; shift ;; --client-request-token) token=$2; shift ;;
    --secret-string) file=\${2#file://}; shift ;; --version-stages) stage=$2; shift ;;
    --move-to-version-id) move=$2; shift ;; --remove-from-version-id) remove=$2; shift ;;
    --query) query=$2; shift ;;
  esac
  shift
done
case $cmd in
  get-secret-value)
    [ -f "/srv/sm/stages/$stage" ] || { echo "ResourceNotFoundException" >&2; exit 254; }
    id=$(cat "/srv/sm/stages/$stage")
    if [ "$query" = SecretString ]; then cat "/srv/sm/versions/$id"; exit 0; fi
    jq -n --arg id "$id" --rawfile s "/srv/sm/versions/$id" \\
      '{VersionId: $id, SecretString: $s, CreatedDate: "2026-01-01T00:00:00+00:00"}' ;;
  put-secret-value)
    cp "$file" "/srv/sm/versions/$token"; echo "$token" >"/srv/sm/stages/$stage"
    echo "put $token $stage" >>/srv/sm/calls ;;
  update-secret-version-stage)
    [ -e /srv/sm/refuse-stage-moves ] && { echo "AccessDeniedException" >&2; exit 254; }
    if [ -n "$move" ]; then echo "$move" >"/srv/sm/stages/$stage"; else rm "/srv/sm/stages/$stage"; fi
    echo "stage $stage \${move:--} from \${remove:--}" >>/srv/sm/calls ;;
esac
`;
