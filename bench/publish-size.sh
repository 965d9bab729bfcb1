#!/usr/bin/env bash
# Publish size of the minimal embedding app (samples/MinimalEmbed) with the runtime package alone
# and with the whole toolkit referenced, and its cold start to the first embedding (median of RUNS
# fresh processes each). Prints one JSON object. Usage: bench/publish-size.sh STUDENT_INT8_DIR [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:?usage: bench/publish-size.sh STUDENT_INT8_DIR [RUNS]}
runs=${2:-7}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
dotnet publish samples/MinimalEmbed -c Release -o "$out/runtime" > "$out/runtime.log" 2>&1 || { cat "$out/runtime.log" >&2; exit 1; }
dotnet publish samples/MinimalEmbed -c Release -p:WholeToolkit=true -o "$out/toolkit" > "$out/toolkit.log" 2>&1 || { cat "$out/toolkit.log" >&2; exit 1; }
bytes() { du -sb "$1" | cut -f1; }
files() { find "$1" -type f | wc -l; }
median_cold() {
  for _ in $(seq "$runs"); do
    dotnet "$1/MinimalEmbed.dll" "$model" "a dog barked at the mail carrier" | sed -E 's/.*"cold_start_ms": ([0-9.]+).*/\1/'
  done | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
rb=$(bytes "$out/runtime"); tb=$(bytes "$out/toolkit")
rc=$(median_cold "$out/runtime"); tc=$(median_cold "$out/toolkit")
cat <<JSON
{"date": "$(date -u +%FT%TZ)", "load": "$(cut -d' ' -f1-3 /proc/loadavg)", "cpu": "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')",
 "runtime_only": {"bytes": $rb, "files": $(files "$out/runtime"), "cold_start_ms_median": $rc},
 "whole_toolkit": {"bytes": $tb, "files": $(files "$out/toolkit"), "cold_start_ms_median": $tc},
 "size_ratio": $(awk -v a="$rb" -v b="$tb" 'BEGIN {printf "%.5f", a / b}'), "runs": $runs, "model": "$model"}
JSON
