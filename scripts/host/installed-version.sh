#!/usr/bin/env bash
# Prints the installed OpenEMR release, X.Y.Z, from the code's own version.php.
set -euo pipefail
# shellcheck disable=SC2016 # the $ are PHP's
php -r 'include "/var/www/openemr/version.php"; echo "$v_major.$v_minor.$v_patch\n";'
