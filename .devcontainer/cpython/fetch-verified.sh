#!/bin/sh
# Downloads a file once and proves it is the one pinned: fetch-verified.sh URL SHA256 DEST
# A file already at DEST with the right SHA-256 is kept; anything else is downloaded to
# DEST.partial, checked, and only then renamed, so an interrupted or wrong download never looks
# finished. A TLS-inspecting proxy's CA bundle is used when the build secret `ca` is mounted.
# FETCH_TIMEOUT bounds the whole download (seconds, default 600).
set -eu
url=$1
sha256=$2
dest=$3
name=$(basename "$url")
if [ -f "$dest" ] && echo "$sha256  $dest" | sha256sum -c --status 2>/dev/null; then
  echo "fetch-verified: $name already verified"
  exit 0
fi
mkdir -p "$(dirname "$dest")"
set -- --fail --silent --show-error --location --retry 2 --connect-timeout 20 \
  --max-time "${FETCH_TIMEOUT:-600}"
if [ -f /run/secrets/ca ]; then set -- "$@" --cacert /run/secrets/ca; fi
if ! curl "$@" --output "$dest.partial" "$url"; then
  rm -f "$dest.partial"
  echo "fetch-verified: cannot download $url. Fix: check the network or proxy (behind a TLS-inspecting proxy set BUILD_CA_BUNDLE in .devcontainer/.env), or build with the offline profile" >&2
  exit 1
fi
actual=$(sha256sum "$dest.partial" | cut -d' ' -f1)
if [ "$actual" != "$sha256" ]; then
  rm -f "$dest.partial"
  echo "fetch-verified: $name has SHA-256 $actual, expected $sha256 (.devcontainer/versions.json). Fix: compare with the sum the publisher lists for $name; if the pin is wrong, correct it with \`invoke python.pin VERSION --sha256 <published sum>\`" >&2
  exit 1
fi
mv "$dest.partial" "$dest"
echo "fetch-verified: $name matches $sha256"
