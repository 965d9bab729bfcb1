#!/bin/sh
# Cross-checks `distill loadtest` against two load generators DistillSharp did not write, on the
# same running server and the same request body, back to back:
#   distill loadtest  open loop, RATE requests/s, latency from the scheduled send time
#   hey               RATE requests/s from one worker (-c 1 -q RATE), latency per request
#   wrk               one connection back to back (closed loop, no rate limit): the service time
# At a rate well below saturation the three should agree within noise on P50 (open and closed
# loops differ only once requests queue).
# Usage: bench/ServeLoad/crosscheck.sh [URL] [RATE] [SECONDS]   (Debian: apt-get install -y hey wrk)
set -eu
URL=${1:-http://127.0.0.1:8080/v1/embeddings}
RATE=${2:-20}
SECS=${3:-20}
TEXT=${TEXT:-the cat sat on the mat and watched the birds in the garden all afternoon}
BODY="{\"input\": \"$TEXT\"}"
DIR=$(cd "$(dirname "$0")" && pwd)
DISTILL=${DISTILL:-$DIR/../../src/DistillSharp.Cli/bin/Release/net10.0/distill}
TEXTS=$(mktemp)
trap 'rm -f "$TEXTS"' EXIT
printf '%s\n' "$TEXT" > "$TEXTS"

echo "== distill loadtest: $RATE/s for $SECS s"
"$DISTILL" loadtest --url "$URL" --rate "$RATE" --duration "$SECS" --warmup 3 --concurrency 64 --texts "$TEXTS"
echo "== hey: -c 1 -q $RATE for $SECS s"
hey -z "${SECS}s" -c 1 -q "$RATE" -m POST -T application/json -d "$BODY" "$URL" | sed -n '/Summary/,/Status code/p'
echo "== wrk: 1 connection back to back for $SECS s"
BODY="$BODY" wrk -t1 -c1 -d"${SECS}s" --latency -s "$DIR/post.lua" "$URL"
