#!/usr/bin/env bash
# Fails if the unit-test binary links Poco::Net or Poco::NetSSL: unit tests must stay pure.
set -euo pipefail
binary=$1
[ -x "$binary" ] || { echo "no such binary: $binary"; exit 1; }
if ldd "$binary" | grep -E 'libPocoNet(SSL)?\.so'; then
  echo "FAIL: $binary links Poco::Net or Poco::NetSSL"
  exit 1
fi
echo "ok: $binary links neither Poco::Net nor Poco::NetSSL"
