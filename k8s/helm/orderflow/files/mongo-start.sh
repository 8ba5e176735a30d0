#!/bin/sh
# Starts mongod ("$@": mongod --replSet ...) through the image's entrypoint,
# with the key file a replica set with authentication needs: its members
# authenticate to each other with it. The bundled set has one member, so a
# new random key at each start does. docker compose and the chart run this;
# MONGO_KEYFILE says where the key goes (default /tmp/mongo-keyfile).
set -eu
keyfile=${MONGO_KEYFILE:-/tmp/mongo-keyfile}
umask 077
head -c 512 /dev/urandom | base64 > "$keyfile"
chmod 400 "$keyfile"
# Started as root (compose), the entrypoint runs mongod as the image's
# mongodb user: the key must be that user's.
if [ "$(id -u)" = 0 ] && id mongodb >/dev/null 2>&1; then
	chown mongodb "$keyfile"
fi
exec docker-entrypoint.sh "$@" --keyFile "$keyfile"
