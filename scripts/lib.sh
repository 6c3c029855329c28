# Shared shell functions of scripts/dev and scripts/test. Source it; do not run it.
# shellcheck shell=bash

JF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BIN=/usr/lib/postgresql/15/bin
JF_DEBS="build-essential cmake pkg-config libcivetweb-dev libpq-dev libjansson-dev libjwt-dev
 libssl-dev libcurl4-openssl-dev libyaml-dev libcmocka-dev postgresql-15 postgresql-contrib curl
 wrk nodejs npm clang-format libxlsxwriter-dev unzip time chromium fonts-noto-cjk clang
 libclang-rt-14-dev"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Install the Debian packages that are missing (as root, or through sudo).
jf_install_deps() {
    local missing=() p
    for p in $JF_DEBS; do
        [ "$p" = nodejs ] && command -v node >/dev/null && continue
        [ "$p" = npm ] && command -v npm >/dev/null && continue
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing: ${missing[*]}"
    local SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# jf_build DIR [cmake options…]: configure and build every C target.
jf_build() {
    local dir=$1; shift
    cmake -S "$JF_ROOT" -B "$dir" "$@" >/dev/null
    cmake --build "$dir" -j "$(nproc)" >/dev/null || cmake --build "$dir" -j 1
}

# Run a command as the unprivileged owner of the cluster when we are root
# (PostgreSQL refuses to run as root).
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# jf_pg_start DATADIR PORT: create the cluster on first use, start it if it
# is not running. The socket lives in DATADIR/run; only loopback listens.
jf_pg_start() {
    local data=$1 port=$2
    if [ ! -s "$data/PG_VERSION" ]; then
        mkdir -p "$data"
        [ "$(id -u)" -eq 0 ] && chown postgres: "$data"
        as_pg "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
        mkdir -p "$data/run"
        [ "$(id -u)" -eq 0 ] && chown postgres: "$data/run"
        cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$data/run'
max_connections = 200
shared_buffers = 256MB
fsync = on
timezone = 'Asia/Shanghai'
CONF
    fi
    if ! as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start >/dev/null ||
            { tail -20 "$data/server.log" >&2; die "PostgreSQL did not start"; }
    fi
}

# jf_pg_standby PRIMARY_DATA PRIMARY_PORT DATADIR PORT NAME: a hot standby of
# the running primary, copied with pg_basebackup and fed by streaming
# replication under application_name NAME (what synchronous_standby_names
# lists), started on PORT with its socket in DATADIR/run.
jf_pg_standby() {
    local primary=$1 pport=$2 data=$3 port=$4 name=$5
    if [ ! -s "$data/PG_VERSION" ]; then
        mkdir -p "$data"
        [ "$(id -u)" -eq 0 ] && chown postgres: "$data"
        chmod 700 "$data"
        as_pg "$PG_BIN/pg_basebackup" -h "$primary/run" -p "$pport" -U postgres -D "$data" \
            -X stream -R -c fast >/dev/null
        as_pg mkdir -p "$data/run"
        cat >>"$data/postgresql.auto.conf" <<CONF
port = $port
unix_socket_directories = '$data/run'
primary_conninfo = 'host=$primary/run port=$pport user=postgres application_name=$name'
hot_standby_feedback = on
CONF
    fi
    jf_pg_start "$data" "$port"
}

jf_pg_stop() {
    as_pg "$PG_BIN/pg_ctl" -D "$1" -m fast -w stop >/dev/null 2>&1 || true
}

# jf_pg_url DATADIR PORT [DB [USER]]: a libpq conninfo string for the
# cluster, as USER (default: the superuser postgres). The service connects as
# jingfang_app, migrations and the demo seed run as jingfang_owner (made by
# migration 0025; local clusters trust their socket, so no password).
jf_pg_url() {
    printf 'host=%s port=%s dbname=%s user=%s' "$1/run" "$2" "${3:-jingfang}" "${4:-postgres}"
}

# jf_db_prepare BUILD DATADIR PORT: create the database if needed, migrate,
# load the demo data (idempotent).
jf_db_prepare() {
    local build=$1 data=$2 port=$3 su url hash
    su=$(jf_pg_url "$data" "$port" postgres)
    psql "$su" -tAc "SELECT 1 FROM pg_database WHERE datname = 'jingfang'" | grep -q 1 ||
        psql "$su" -qc "CREATE DATABASE jingfang" >/dev/null
    # The first time, as the superuser: migration 0025 makes the roles and
    # hands everything to the owner; from then on as the owner.
    url=$(jf_pg_url "$data" "$port" jingfang postgres)
    psql "$su" -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'jingfang_owner' AND rolcanlogin" |
        grep -q 1 && url=$(jf_pg_url "$data" "$port" jingfang jingfang_owner)
    JF_DB_URL=$url "$build/api/jingfang-migrate" "$JF_ROOT/db/migrations" >&2
    psql "$su" -qc "ALTER ROLE jingfang_owner LOGIN" -c "ALTER ROLE jingfang_app LOGIN" >/dev/null
    url=$(jf_pg_url "$data" "$port" jingfang jingfang_owner)
    hash=$(printf '%s\n' "$JF_DEMO_PASSWORD" | "$build/api/jingfang-api" hash-password)
    psql "$url" -q -v ON_ERROR_STOP=1 -v demo_hash="$hash" -f "$JF_ROOT/db/seed/demo.sql" >/dev/null
}

# A TCP port in [lo, lo + span) that nothing listens on now. Keep the range
# below the kernel's ephemeral ports (32768+), which outgoing connections take.
jf_free_port() {
    local lo=$1 span=$2 port i
    for i in $(seq 1 50); do
        port=$((lo + RANDOM % span))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    die "no free port in $lo..$((lo + span))"
}

# 32 random bytes as 64 hex digits.
jf_random_hex() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }

# Wait until URL answers (the server is up), for at most 30 s.
jf_wait_http() {
    local i
    for i in $(seq 1 300); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# The demo password of every demo login (a demo, not a secret).
JF_DEMO_PASSWORD=${JF_DEMO_PASSWORD:-Jingfang@2026}

# jf_web_build [CLIENT]: build clients/CLIENT (web by default; mobile is the
# grid-worker app) into its dist when its sources are newer than the last
# build (npm ci first when node_modules is missing or older than
# package-lock.json). Prints the directory to serve (JF_WEB_DIR, JF_MOBILE_DIR).
jf_web_build() {
    local web=$JF_ROOT/clients/${1:-web}
    if [ ! -d "$web/node_modules" ] || [ "$web/package-lock.json" -nt "$web/node_modules" ]; then
        say "installing the packages of clients/${1:-web} (npm ci)"
        (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >&2 && touch node_modules)
    fi
    if [ ! -s "$web/dist/files.txt" ] ||
        [ -n "$(find "$web/src" "$web/public" "$web/index.html" "$web"/vite.config.* \
            "$web/package-lock.json" -newer "$web/dist/files.txt" -print -quit)" ]; then
        say "building clients/${1:-web} (dist)"
        (cd "$web" && npm run --silent build >&2)
    fi
    echo "$web/dist"
}

# jf_dev_worker BUILD: fill the statistics cache once (the dashboard shows
# the demo figures at once), then run jingfang-worker in the background for
# notifications, escalation, webhooks and the cache, stopped when the
# calling script exits (a background job of a script ignores Ctrl-C).
jf_dev_worker() {
    "$1/api/jingfang-worker" --once >"$JF_ROOT/.jf/worker.log" 2>&1 ||
        { tail -20 "$JF_ROOT/.jf/worker.log" >&2; die "jingfang-worker --once failed"; }
    "$1/api/jingfang-worker" >>"$JF_ROOT/.jf/worker.log" 2>&1 &
    JF_DEV_WORKER_PID=$!
    trap 'kill -TERM "$JF_DEV_WORKER_PID" 2>/dev/null; wait "$JF_DEV_WORKER_PID" 2>/dev/null' EXIT
}
