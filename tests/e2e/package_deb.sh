#!/usr/bin/env bash
# Builds the Debian package with CPack in the build folder and checks what it holds: the binary,
# the systemd unit, the example configs (and the dashboard and alert rules when the tree has
# them), the Depends line, that the packaged binary runs, and that systemd accepts the unit.
# Also checks the `cmake --install` layout under a throw-away prefix.
# Usage: package_deb.sh <build dir> <source dir>
set -euo pipefail

build=$(cd "${1:?usage: package_deb.sh <build dir> <source dir>}" && pwd)
source_dir=$(cd "${2:?usage: package_deb.sh <build dir> <source dir>}" && pwd)
out="$build/artifacts/package"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

rm -rf "$out"
(cd "$build" && cpack -G DEB -B "$out") >"$tmp/cpack.log" 2>&1 || {
  cat "$tmp/cpack.log" >&2
  fail "cpack -G DEB failed"
}
debs=("$out"/*.deb)
[ "${#debs[@]}" -eq 1 ] && [ -f "${debs[0]}" ] || fail "expected one .deb in $out, got: ${debs[*]}"
deb=${debs[0]}
echo "package: $deb"

dpkg-deb -c "$deb" >"$tmp/contents"
expect() { # <path in the package> [mode prefix]
  local line
  line=$(awk -v p="./$1" '$NF == p' "$tmp/contents")
  [ -n "$line" ] || fail "the package lacks /$1"
  if [ -n "${2:-}" ]; then
    [[ "$line" == "$2"* ]] || fail "/$1 has the wrong mode or owner: $line"
  fi
}
expect usr/bin/huawei_meeting_exporter "-rwxr-xr-x root/root"
expect usr/lib/systemd/system/huawei_meeting_exporter.service "-rw-r--r-- root/root"
expect usr/share/doc/huawei-meeting-exporter/examples/huawei_meeting_exporter.example.yml
expect usr/share/doc/huawei-meeting-exporter/examples/web-config.example.yml
expect usr/share/doc/huawei-meeting-exporter/examples/huawei_meeting.conf
expect usr/share/doc/huawei-meeting-exporter/README.md
if [ -f "$source_dir/deploy/grafana/huawei-meeting.json" ]; then
  expect usr/share/huawei-meeting-exporter/grafana/huawei-meeting.json
fi
if [ -f "$source_dir/deploy/prometheus/alerts.yml" ]; then
  expect usr/share/huawei-meeting-exporter/prometheus/alerts.yml
fi
# Nothing of the build or test tree may leak into the package.
unexpected=$(grep -E 'unit_tests|integration_tests|simulator|testdata|\.o$|\.a$' "$tmp/contents" || true)
[ -z "$unexpected" ] || fail "unexpected files in the package: $unexpected"

[ "$(dpkg-deb -f "$deb" Package)" = "huawei-meeting-exporter" ] || fail "wrong package name"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libpoconetssl libyaml-cpp libssl3 libcrypt1; do
  grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
done

dpkg-deb -x "$deb" "$tmp/root"
packaged="$tmp/root/usr/bin/huawei_meeting_exporter"
"$packaged" --version | grep -q "huawei_meeting_exporter version $(dpkg-deb -f "$deb" Version)" ||
  fail "the packaged binary does not report the package version"

# The example config is valid once its password files exist (systemd provides them through
# LoadCredential= and ${CREDENTIALS_DIRECTORY}).
mkdir -p "$tmp/credentials"
for id in $(sed -n 's/^  - id: "\([0-9]*\)"$/\1/p' "$tmp/root/usr/share/doc/huawei-meeting-exporter/examples/huawei_meeting_exporter.example.yml"); do
  echo "example-password" >"$tmp/credentials/meetings_$id"
done
CREDENTIALS_DIRECTORY="$tmp/credentials" "$packaged" --check-config \
  --config.file="$tmp/root/usr/share/doc/huawei-meeting-exporter/examples/huawei_meeting_exporter.example.yml" \
  --web.config.file="$tmp/root/usr/share/doc/huawei-meeting-exporter/examples/web-config.example.yml" \
  >"$tmp/check.log" 2>&1 || {
  cat "$tmp/check.log" >&2
  fail "the packaged example configs do not pass --check-config"
}

# systemd's own parser on the packaged unit, pointed at the packaged binary.
if command -v systemd-analyze >/dev/null; then
  sed "s#/usr/bin/huawei_meeting_exporter#$packaged#" \
    "$tmp/root/usr/lib/systemd/system/huawei_meeting_exporter.service" \
    >"$tmp/huawei_meeting_exporter.service"
  verify=$(cd "$tmp" && systemd-analyze verify --man=no "$tmp/huawei_meeting_exporter.service" 2>&1) ||
    fail "systemd-analyze verify: $verify"
  [ -z "$verify" ] || fail "systemd-analyze verify is not silent: $verify"
else
  echo "note: systemd-analyze is not installed; the unit was not verified by systemd"
fi

# cmake --install lays out the same files under any prefix.
cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1 || {
  cat "$tmp/install.log" >&2
  fail "cmake --install failed"
}
for f in bin/huawei_meeting_exporter lib/systemd/system/huawei_meeting_exporter.service \
  share/doc/huawei-meeting-exporter/examples/web-config.example.yml; do
  [ -f "$tmp/prefix/$f" ] || fail "cmake --install did not install $f"
done

echo "package_deb: OK"
