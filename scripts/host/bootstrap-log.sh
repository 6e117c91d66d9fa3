#!/usr/bin/env bash
# Prints the bootstrap log from line FROM_LINE on (at most 500 lines), for `openemr-ops
# provision` to follow; nothing while the log does not exist yet.
set -u
log=/var/log/openemr-aws/bootstrap.log
if [ -f "$log" ]; then tail -n "+${FROM_LINE:?}" "$log" | head -n 500; fi
