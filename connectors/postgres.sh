#!/usr/bin/env bash
# A throwaway PostgreSQL server for the JDBC tests and the benchmark's jdbc part, from Debian's own
# postgresql package:
#   install                                    Debian's postgresql package with apt-get, unless
#                                              initdb is installed already (as root, or through
#                                              sudo). Idempotent.
#   start <dir> <port> <user> <passwordFile>   a fresh cluster in <dir> (which must be empty or
#                                              missing): superuser <user> with the password in
#                                              <passwordFile> (its first line), scram-sha-256
#                                              password authentication for every connection,
#                                              listening on 127.0.0.1:<port> only, its unix socket
#                                              and log inside <dir>; returns once it accepts
#                                              connections. Durability is off (fsync, synchronous
#                                              commit): the data is for one run only.
#   stop <dir>                                 stops it (pg_ctl stop -m fast); nothing if it is
#                                              not running.
# PostgreSQL refuses to run as root: run as root, this script runs the server as the postgres OS
# user (the package creates it) and hands <dir> to that user, whose path to <dir> must be open
# (every parent folder searchable by others, o+x).
# Usage: connectors/postgres.sh install | start <dir> <port> <user> <passwordFile> | stop <dir>
set -euo pipefail

usage() {
  echo "usage: $0 install | start <dir> <port> <user> <passwordFile> | stop <dir>" >&2
  exit 2
}

# The bin folder of the newest installed PostgreSQL (Debian keeps them per major version).
bindir() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then
    echo "$d"
  fi
}

# Runs a command as the server's OS user: the postgres user when this script runs as root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

install() {
  if [ -n "$(bindir)" ]; then
    echo "postgres: $("$(bindir)/postgres" --version) is installed ($(bindir))"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "postgres: PostgreSQL is not installed and this is not a Debian system (no apt-get);" \
      "install PostgreSQL so that /usr/lib/postgresql/<version>/bin/initdb exists" >&2
    exit 1
  fi
  local sudo
  if [ "$(id -u)" -eq 0 ]; then
    sudo=""
  elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "postgres: PostgreSQL is not installed; install Debian's package as root" \
      "(apt-get install --no-install-recommends postgresql)" >&2
    exit 1
  fi
  echo "postgres: installing Debian's postgresql package with apt-get"
  if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      postgresql; then
    # A fresh machine may have no package lists yet: read them once and try again.
    echo "postgres: reading Debian's package lists (apt-get update) and trying again"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      postgresql
  fi
  if [ -z "$(bindir)" ]; then
    echo "postgres: apt-get installed postgresql, but no /usr/lib/postgresql/*/bin/initdb" >&2
    exit 1
  fi
  echo "postgres: $("$(bindir)/postgres" --version) is installed ($(bindir))"
}

start() {
  local dir="$1" port="$2" user="$3" pwfile="$4" bin
  bin="$(bindir)"
  if [ -z "$bin" ]; then
    echo "postgres: PostgreSQL is not installed; run $0 install" >&2
    exit 1
  fi
  case "$port" in
    ''|*[!0-9]*) echo "postgres: port must be a number, was '$port'" >&2; exit 2 ;;
  esac
  case "$user" in
    ''|*[!a-zA-Z0-9_]*) echo "postgres: user must be letters, digits and _, was '$user'" >&2
      exit 2 ;;
  esac
  if [ ! -r "$pwfile" ]; then
    echo "postgres: cannot read the password file $pwfile" >&2
    exit 1
  fi
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if [ -n "$(ls -A "$dir")" ]; then
    echo "postgres: $dir is not empty; start makes a fresh cluster in an empty folder" >&2
    exit 1
  fi
  if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      echo "postgres: running as root needs the postgres OS user (Debian's package creates it)" >&2
      exit 1
    fi
    chown postgres: "$dir"
    chmod 700 "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      echo "postgres: the postgres OS user cannot reach $dir: every folder above it must be" \
        "searchable by others (chmod o+x)" >&2
      exit 1
    fi
  fi
  # initdb reads the superuser's password from a file the server's user can read: a copy inside
  # the cluster's own folder (mode 600), deleted right after.
  local pw="$dir/initdb.pw"
  (umask 077 && head -n 1 "$pwfile" >"$pw")
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$pw"
  fi
  if ! as_owner "$bin/initdb" -D "$dir/data" -U "$user" --pwfile="$pw" --auth=scram-sha-256 \
      -E UTF8 --locale=C >"$dir/initdb.log" 2>&1; then
    rm -f "$pw"
    echo "postgres: initdb failed:" >&2
    cat "$dir/initdb.log" >&2
    exit 1
  fi
  rm -f "$pw"
  # Password authentication on loopback TCP and the socket, nothing else.
  as_owner sh -c "cat >'$dir/data/pg_hba.conf'" <<EOF
local all all scram-sha-256
host all all 127.0.0.1/32 scram-sha-256
EOF
  as_owner sh -c "cat >>'$dir/data/postgresql.conf'" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
password_encryption = 'scram-sha-256'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  if ! as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null; then
    echo "postgres: the server did not start on 127.0.0.1:$port; its log:" >&2
    tail -n 20 "$dir/server.log" >&2 || true
    exit 1
  fi
  # pg_ctl -w waits for the server; check the TCP port too (what the clients use).
  local i
  for i in $(seq 1 100); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
      echo "postgres: started in $dir, listening on 127.0.0.1:$port"
      return 0
    fi
    sleep 0.1
  done
  echo "postgres: the server in $dir does not accept connections on 127.0.0.1:$port" >&2
  exit 1
}

stop() {
  local dir="$1" bin
  bin="$(bindir)"
  if [ -z "$bin" ] || [ ! -f "$dir/data/postmaster.pid" ]; then
    echo "postgres: no server running in $dir"
    return 0
  fi
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
  echo "postgres: stopped the server in $dir"
}

case "${1:-}" in
  install) [ "$#" -eq 1 ] || usage; install ;;
  start) [ "$#" -eq 5 ] || usage; start "$2" "$3" "$4" "$5" ;;
  stop) [ "$#" -eq 2 ] || usage; stop "$2" ;;
  *) usage ;;
esac
