#!/usr/bin/env bash
# Fetches the public data sets that the accuracy tests run on, from Debian's scikit-learn package
# (python3-sklearn), which ships them as small CSV files:
#  1. `apt-get download python3-sklearn` into a temporary folder: the package file only, nothing is
#     installed and none of its dependencies is needed (works as root and as a normal user; when
#     the package is unknown, the package lists are read once with apt-get update, as root or
#     through sudo);
#  2. `dpkg-deb -x` unpacks it there, and the six files named below are copied from
#     usr/lib/python3/dist-packages/sklearn/datasets/data/ to datasets/target/sklearn/, with the
#     package's version in datasets/target/sklearn/VERSION.
# What each file holds and where it comes from: datasets/README.md.
# Idempotent: when every file and VERSION are already there, it downloads nothing.
# Usage: datasets/fetch.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="$here/target/sklearn"
files="breast_cancer.csv wine_data.csv iris.csv diabetes_data_raw.csv.gz diabetes_target.csv.gz \
boston_house_prices.csv"

if [ "$#" -ne 0 ]; then
  echo "usage: $0" >&2
  exit 2
fi

have=1
for f in $files VERSION; do
  [ -s "$dest/$f" ] || have=0
done
if [ "$have" -eq 1 ]; then
  echo "datasets: python3-sklearn $(cat "$dest/VERSION") data sets are in $dest"
  exit 0
fi

for tool in apt-get dpkg-deb; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "datasets: $tool is needed (a Debian system) to fetch the python3-sklearn package" >&2
    exit 1
  fi
done

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# apt-get run as root downloads as the user _apt, which must be able to write to the folder.
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
  chown _apt "$tmp"
fi
download() {
  (cd "$tmp" && apt-get download -q python3-sklearn)
}
echo "datasets: downloading Debian's python3-sklearn package (data sets only, nothing installed)"
if ! download; then
  # A fresh machine may have no package lists yet: read them once (as root, or through sudo).
  if [ "$(id -u)" -eq 0 ]; then
    sudo=""
  elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "datasets: apt-get download python3-sklearn failed; run apt-get update as root and" \
      "try again" >&2
    exit 1
  fi
  echo "datasets: reading Debian's package lists (apt-get update) and trying again"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
  download
fi
deb="$(ls "$tmp"/python3-sklearn_*.deb)"
version="$(dpkg-deb -f "$deb" Version)"
dpkg-deb -x "$deb" "$tmp/x"
src="$tmp/x/usr/lib/python3/dist-packages/sklearn/datasets/data"
mkdir -p "$dest"
for f in $files; do
  if [ ! -s "$src/$f" ]; then
    echo "datasets: python3-sklearn $version has no $f" >&2
    exit 1
  fi
  cp "$src/$f" "$dest/$f.tmp"
  mv "$dest/$f.tmp" "$dest/$f"
done
# VERSION last: its presence says the set is complete.
echo "$version" >"$dest/VERSION.tmp"
mv "$dest/VERSION.tmp" "$dest/VERSION"
echo "datasets: python3-sklearn $version data sets written to $dest"
