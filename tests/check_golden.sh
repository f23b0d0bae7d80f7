#!/bin/sh
# Runs `promtool check metrics` over every golden exposition; any output (a lint problem or a
# parse error) fails the test, as does a missing promtool or an empty golden directory.
set -u
dir="${1:?usage: check_golden.sh <golden dir>}"
command -v promtool >/dev/null 2>&1 || { echo "promtool not found"; exit 1; }
status=0
count=0
for file in "$dir"/*.prom; do
  [ -e "$file" ] || break
  count=$((count + 1))
  output=$(promtool check metrics < "$file" 2>&1)
  rc=$?
  if [ "$rc" -ne 0 ] || [ -n "$output" ]; then
    echo "$file:"
    echo "$output"
    status=1
  fi
done
if [ "$count" -eq 0 ]; then
  echo "no golden files in $dir"
  exit 1
fi
echo "checked $count golden files"
exit "$status"
