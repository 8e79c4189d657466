#!/usr/bin/env bash
# Every HTTP gateway route through curl, the way the README shows them; run by tests/http.rs with the base URL
# of a fresh server (no requirepass). Each check prints what it ran, and the first mismatch fails the script.
set -euo pipefail
base=${1:?usage: http_curl.sh http://127.0.0.1:<http-port>}

# check <expected substring> <curl arguments...>: runs curl, prints status and body, fails if absent.
check() {
    local expected=$1
    shift
    local got
    got=$(curl -sS -w ' %{http_code}' "$@")
    printf '%s -> %s\n' "$*" "$got"
    if [[ $got != *"$expected"* ]]; then
        echo "expected to find: $expected" >&2
        exit 1
    fi
}

json=(-H 'Content-Type: application/json')
check '{"status":"ok"} 200' "$base/_health"
check '"action":"created","key":"user-config","expires_at":null} 200' \
    -X POST "$base/user-config/" "${json[@]}" -d '{"value": {"theme": "dark"}}'
check '{"key":"user-config","value":{"theme":"dark"},"ttl_remaining":-1} 200' "$base/user-config"
check '"action":"updated","key":"user-config","expires_at":"' \
    -X PUT "$base/user-config" "${json[@]}" -d '{"value": {"theme": "light"}, "ttl": 3600}'
check '"ttl_remaining":3600} 200' "$base/user-config"
check '{"key":"visits","value":1} 200' -X POST "$base/visits/incr"
check '{"key":"visits","value":11} 200' -X POST "$base/visits/incr" "${json[@]}" -d '{"by": 10}'
check '{"key":"visits","value":8} 200' -X POST "$base/visits/decr" "${json[@]}" -d '{"by": 3}'
check '"count":2,"keys":[' "$base/?match=*&count=100"
check '"items":{"user-config":{"theme":"light"}}} 200' "$base/?match=user-*&values=true"
check '{"status":"ok","action":"deleted","key":"user-config"} 200' -X DELETE "$base/user-config"
check '{"error":"Key not found"} 404' "$base/user-config"
check '{"result":"OK"} 200' -X POST "$base/_redis" "${json[@]}" -d '["SET", "greeting", "hello", "EX", "60"]'
check '{"result":"hello"} 200' -X POST "$base/_redis" "${json[@]}" -d '["GET", "greeting"]'
check '[{"result":"OK"},{"result":2},{"error":"ERR value is not an integer or out of range"}] 200' \
    -X POST "$base/_redis/pipeline" "${json[@]}" -d '[["SET","n","1"],["INCR","n"],["INCR","greeting"]]'
check '[{"result":3}]' -X POST "$base/_redis/multi-exec" "${json[@]}" -d '[["INCR","n"]]'
check 'ferrokv_commands_total{cmd="set"}' "$base/_metrics"
# Without the JSON type, curl -d sends a form (application/x-www-form-urlencoded), which the gateway refuses.
check '"error":"a POST or PUT body needs Content-Type: application/json"} 415' -X POST "$base/_redis" -d '["GET", "n"]'
# curl sends Expect: 100-continue for bodies over 1 MiB (over 1 KiB before curl 7.77); force it here.
check '"action":"created"' -X POST "$base/large" "${json[@]}" -H 'Expect: 100-continue' \
    -d "{\"value\": \"$(head -c 3000 /dev/zero | tr '\0' 'x')\"}"
echo "all curl checks passed"

# Pub/sub: a `curl -N` follower of a channel gets what curl publishes, as an event.
events=$(mktemp)
curl -sS -N --max-time 20 "$base/_subscribe/news" > "$events" &
follower=$!
for _ in $(seq 200); do
    [[ $(curl -sS "$base/_redis" "${json[@]}" -d '["PUBSUB","NUMSUB","news"]') == *'"news",1'* ]] && break
    sleep 0.05
done
check '{"channel":"news","receivers":1} 200' -X POST "$base/_publish/news" "${json[@]}" -d '{"message": "hello"}'
for _ in $(seq 200); do
    grep -q '"message":"hello"' "$events" && break
    sleep 0.05
done
kill "$follower"
wait "$follower" || true
grep -qxF 'data: {"channel":"news","message":"hello"}' "$events" || { echo "no event in: $(cat "$events")" >&2; exit 1; }
rm -f "$events"
echo 'event received'
