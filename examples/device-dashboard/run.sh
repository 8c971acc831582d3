#!/usr/bin/env bash
# The device dashboard in one command (README.md): builds wshub and the Go backend, makes
# development certificates, then starts on loopback
#   the backend, wshub (wshub.toml), nginx (TLS, with deploy/nginx/wshub.conf's location lines)
#   and two simulated terminals,
# prints the URL to open, and on Ctrl-C (or SIGTERM) stops each of them by its PID.
#
#   run.sh [--wshub PATH] [--build-dir DIR] [--free-ports]
#
# --wshub PATH     use this wshub binary instead of building build/release/wshub
# --build-dir DIR  where the backend, certificates, configs and logs go (default build/device-dashboard)
# --free-ports     take free loopback ports instead of 8443 (nginx), 8077 (wshub), 8078 (wshub
#                  API) and 8080 (backend); the tests run it this way
set -euo pipefail

EXAMPLE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$EXAMPLE/../.." && pwd)
WSHUB=""
BUILD="$REPO/build/device-dashboard"
FREE_PORTS=0
TERMINALS=(term-1 term-2)

while [ $# -gt 0 ]; do
  case "$1" in
    --wshub) WSHUB=$2; shift 2 ;;
    --build-dir) BUILD=$2; shift 2 ;;
    --free-ports) FREE_PORTS=1; shift ;;
    *) echo "usage: $0 [--wshub PATH] [--build-dir DIR] [--free-ports]" >&2; exit 2 ;;
  esac
done

say() { echo "device-dashboard: $*"; }
die() { echo "device-dashboard: $*" >&2; exit 1; }

for tool in go nginx /usr/bin/python3; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
    die "$tool is missing: apt-get install golang-go nginx python3-websockets (./dev test installs them)"
done
/usr/bin/python3 -c 'import websockets' 2>/dev/null || die "python3-websockets is missing: apt-get install python3-websockets"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# --- build -----------------------------------------------------------------------------------
mkdir -p "$BUILD"
BUILD=$(cd "$BUILD" && pwd)
if [ -z "$WSHUB" ]; then
  say "building wshub (cmake --preset release)"
  (cd "$REPO" && cmake --preset release >/dev/null && cmake --build --preset release --target wshub >/dev/null)
  WSHUB="$REPO/build/release/wshub"
fi
[ -x "$WSHUB" ] || die "no wshub binary at $WSHUB"

say "building the backend (go build, offline)"
(cd "$EXAMPLE" && GOFLAGS=-mod=mod GOPROXY=off GOPATH="$BUILD/go" GOCACHE="$BUILD/go-cache" CGO_ENABLED=0 \
  go build -o "$BUILD/bin/dashboard-backend" ./backend)

# Certificates: kept between runs, so a browser told to trust ca.pem keeps trusting it.
TLS="$BUILD/tls"
if [ ! -f "$TLS/cert.pem" ]; then
  "$WSHUB" cert --out "$TLS" --host 127.0.0.1 --host localhost >/dev/null
fi

# --- ports and secrets -----------------------------------------------------------------------
if [ "$FREE_PORTS" = 1 ]; then
  # Bound together so they differ; released just before the servers take them.
  read -r NGINX_PORT HUB_PORT API_PORT BACKEND_PORT < <(/usr/bin/python3 -c '
import socket
held = [socket.socket() for _ in range(4)]
for s in held: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in held))')
else
  NGINX_PORT=8443 HUB_PORT=8077 API_PORT=8078 BACKEND_PORT=8080
fi
# A port another program holds would answer the readiness checks below in our servers' place.
for port in "$NGINX_PORT" "$HUB_PORT" "$API_PORT" "$BACKEND_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "127.0.0.1:$port is in use by another program: stop it, or run with --free-ports"
  fi
done
random_hex() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
export WSHUB_API_KEY WSHUB_JWT_SECRET WSHUB_WEBHOOK_SECRET
WSHUB_API_KEY=$(random_hex)
WSHUB_JWT_SECRET=$(random_hex)
WSHUB_WEBHOOK_SECRET=$(random_hex)

RUN="$BUILD/run"
rm -rf "$RUN"
mkdir -p "$RUN/logs" "$RUN/nginx/logs"

# replace TEXT OLD NEW: TEXT with OLD replaced, failing when OLD is not there (a changed
# template must break the script loudly, not start something else).
replace() {
  [[ $1 == *"$2"* ]] || die "the template no longer contains: $2"
  printf '%s' "${1//"$2"/"$3"}"
}

config=$(<"$EXAMPLE/wshub.toml")
config=$(replace "$config" 'address = "127.0.0.1:8077"' "address = \"127.0.0.1:$HUB_PORT\"")
config=$(replace "$config" 'listen = "127.0.0.1:8078"' "listen = \"127.0.0.1:$API_PORT\"")
config=$(replace "$config" 'http://127.0.0.1:8080/hooks/wshub' "http://127.0.0.1:$BACKEND_PORT/hooks/wshub")
config=$(replace "$config" 'development-api-key-replaced-by-run.sh' "$WSHUB_API_KEY")
config=$(replace "$config" 'development-jwt-secret-replaced-by-run.sh' "$WSHUB_JWT_SECRET")
config=$(replace "$config" 'development-webhook-secret-replaced-by-run.sh' "$WSHUB_WEBHOOK_SECRET")
(umask 077 && printf '%s\n' "$config" >"$RUN/wshub.toml")

# nginx: the shipped deploy/nginx/wshub.conf with this run's ports and certificate, its
# location narrowed to wshub's /hub, and the backend (page, tokens, reports) at /.
site=$(<"$REPO/deploy/nginx/wshub.conf")
site=$(replace "$site" '    listen 443 ssl;' "    listen 127.0.0.1:$NGINX_PORT ssl;")
site=$(replace "$site" $'    listen [::]:443 ssl;\n' '')
site=$(replace "$site" 'server 127.0.0.1:8077;' "server 127.0.0.1:$HUB_PORT;")
site=$(replace "$site" 'server_name test.ws.com;' 'server_name 127.0.0.1 localhost;')
site=$(replace "$site" '/etc/wshub/tls/cert.pem' "$TLS/cert.pem")
site=$(replace "$site" '/etc/wshub/tls/key.pem' "$TLS/key.pem")
site=$(replace "$site" '    location / {' "    # The dashboard backend: the page, /token/*, /report. Its webhook path is for wshub only.
    location / {
        proxy_pass http://dashboard_backend;
        proxy_http_version 1.1;             # with an empty Connection: keep-alive to the backend
        proxy_set_header Connection \"\";
        proxy_set_header Host \$host;
        proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto \$scheme;
    }
    location /hooks/ {
        return 404;
    }

    # wshub's hub route.
    location = /hub {")
cat >"$RUN/nginx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $RUN/nginx/nginx.pid;
error_log $RUN/nginx/logs/error.log info;
events { worker_connections 1024; }
http {
    access_log $RUN/nginx/logs/access.log;
    client_body_temp_path $RUN/nginx/client_body;
    proxy_temp_path $RUN/nginx/proxy;
    fastcgi_temp_path $RUN/nginx/fastcgi;
    uwsgi_temp_path $RUN/nginx/uwsgi;
    scgi_temp_path $RUN/nginx/scgi;

    upstream dashboard_backend {
        server 127.0.0.1:$BACKEND_PORT;
        keepalive 8;
    }

$site
}
EOF
"$NGINX" -t -q -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf" 2>"$RUN/logs/nginx-check.log" ||
  die "nginx refused the config: $(cat "$RUN/logs/nginx-check.log")"

# --- processes -------------------------------------------------------------------------------
NAMES=()
PIDS=()

# start NAME COMMAND...: in the background, output to logs/NAME.log, PID recorded.
start() {
  local name=$1
  shift
  "$@" </dev/null >"$RUN/logs/$name.log" 2>&1 &
  NAMES+=("$name")
  PIDS+=("$!")
  echo "$name $!" >>"$RUN/pids"
}

# Stops what was started, last first: SIGTERM, then SIGKILL after 10 s. A second Ctrl-C or
# SIGTERM meanwhile is ignored: ending run.sh now would leave the rest running.
stop_all() {
  trap '' INT TERM
  trap - EXIT
  local i pid waited
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[i]}
    kill -TERM "$pid" 2>/dev/null || continue
    for ((waited = 0; waited < 100; waited++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "${NAMES[i]} (PID $pid) did not stop within 10 s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
}
trap 'stop_all; exit 1' EXIT
trap 'say "stopping"; stop_all; exit 0' INT TERM

# wait_port NAME PORT: until PORT accepts connections, or fail when NAME exited.
wait_port() {
  local name=$1 port=$2 i pid
  for i in "${!NAMES[@]}"; do [ "${NAMES[i]}" = "$name" ] && pid=${PIDS[i]}; done
  for ((i = 0; i < 300; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || die "$name exited: $(tail -20 "$RUN/logs/$name.log")"
    sleep 0.1
  done
  die "$name did not listen on $port within 30 s: $(tail -20 "$RUN/logs/$name.log")"
}

start backend "$BUILD/bin/dashboard-backend" -listen "127.0.0.1:$BACKEND_PORT" \
  -hub-api "http://127.0.0.1:$API_PORT" -web "$EXAMPLE/web"
wait_port backend "$BACKEND_PORT"
start wshub "$WSHUB" --config "$RUN/wshub.toml"
wait_port wshub "$HUB_PORT"
wait_port wshub "$API_PORT"
start nginx "$NGINX" -p "$RUN/nginx" -c "$RUN/nginx/nginx.conf"
wait_port nginx "$NGINX_PORT"
for device in "${TERMINALS[@]}"; do
  start "$device" /usr/bin/python3 -u "$EXAMPLE/simulator/terminal.py" --device "$device" \
    --base "https://127.0.0.1:$NGINX_PORT" --ca "$TLS/ca.pem"
done

say "open https://127.0.0.1:$NGINX_PORT/"
say "  the certificate is wshub cert's: accept the warning once, or trust $TLS/ca.pem"
say "  logs in $RUN/logs; Ctrl-C stops everything"

# Runs until a signal, or until one of the processes ends by itself (then all stop).
set +e
wait -n "${PIDS[@]}"
status=$?
for i in "${!PIDS[@]}"; do
  kill -0 "${PIDS[i]}" 2>/dev/null || say "${NAMES[i]} exited ($status): $(tail -5 "$RUN/logs/${NAMES[i]}.log")"
done
exit 1
