#!/bin/sh
# Starts `interlock serve` with the config path, bind address, port and log level taken from the
# environment (INTERLOCK_CONFIG, INTERLOCK_HOST, INTERLOCK_PORT, INTERLOCK_LOG_LEVEL); arguments that
# start with "-" are passed on to it. Other arguments are an interlock command run with the same
# secrets (`docker compose run --rm gateway keys create --team claims`).
# `exec` makes the gateway PID 1, so SIGTERM reaches it and it drains.
set -eu

# NAME_FILE=/run/secrets/x sets NAME from that file (Docker and Kubernetes secrets are files), so keys
# need not sit in the container's environment definition. Only secret-like names take part: INTERLOCK_*,
# PGPASSWORD and names ending in _API_KEY, _TOKEN, _SECRET or _PASSWORD; other *_FILE variables
# (SSL_CERT_FILE, ...) are paths by design and stay as they are. Setting both NAME and NAME_FILE is an error.
for file_var in $(env | sed -En 's/^(INTERLOCK_[A-Za-z0-9_]*|PGPASSWORD|[A-Za-z0-9_]*_(API_KEY|TOKEN|SECRET|PASSWORD))_FILE=.*/\1/p'); do
  path="$(printenv "${file_var}_FILE")"
  if [ -n "$(printenv "$file_var" || true)" ]; then
    echo "interlock: both $file_var and ${file_var}_FILE are set; set only one" >&2
    exit 2
  fi
  if [ ! -r "$path" ]; then
    echo "interlock: ${file_var}_FILE names $path, which does not exist or is not readable" >&2
    exit 2
  fi
  value="$(cat "$path")"
  if [ -z "$value" ]; then
    echo "interlock: ${file_var}_FILE names $path, which is empty" >&2
    exit 2
  fi
  export "$file_var=$value"
  unset "${file_var}_FILE"
done

if [ "$#" -gt 0 ] && [ "${1#-}" = "$1" ]; then
  exec interlock "$@"
fi

config="${INTERLOCK_CONFIG:-/etc/interlock/config.yaml}"
if [ ! -r "$config" ]; then
  echo "interlock: config file $config (INTERLOCK_CONFIG) does not exist or is not readable;" \
       "mount one there or point INTERLOCK_CONFIG at it" >&2
  exit 2
fi
case "${INTERLOCK_PORT:-8080}" in
  ''|*[!0-9]*)
    echo "interlock: INTERLOCK_PORT must be a port number, got '${INTERLOCK_PORT}'" >&2
    exit 2 ;;
esac

exec interlock serve \
  --config "$config" \
  --host "${INTERLOCK_HOST:-0.0.0.0}" \
  --port "${INTERLOCK_PORT:-8080}" \
  --log-level "${INTERLOCK_LOG_LEVEL:-info}" \
  "$@"
