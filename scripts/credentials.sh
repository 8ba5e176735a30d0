#!/bin/sh
# credentials.sh EXAMPLE OUT writes OUT from EXAMPLE with every value
# "change-me" replaced by a random password (hex, so it needs no escaping
# anywhere). An OUT that exists is left alone: its passwords are in use.
set -eu
example=$1 out=$2
if [ -e "$out" ]; then
  echo "$out exists: keeping its credentials"
  exit 0
fi
umask 077
while IFS= read -r line; do
  case $line in
    *=change-me) printf '%s=%s\n' "${line%%=*}" "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" ;;
    *) printf '%s\n' "$line" ;;
  esac
done <"$example" >"$out"
echo "wrote $out with random passwords"
