#!/usr/bin/env bash
# A local base image for building generated Dockerfiles in tests: no registry can be pulled from here, so a
# minimal Debian with Python and venv is made from Debian's packages with debootstrap and imported into podman.
# Cached in podman's own store (built once per machine); installs podman and debootstrap with apt when missing.
set -euo pipefail
# The machine's own CA bundle goes into the image, so pip trusts what this machine trusts (a proxy's CA, say);
# the tag carries its digest, so a changed bundle makes a new base.
bundle=/etc/ssl/certs/ca-certificates.crt
image="${TOUCHDOWN_TEST_BASE:-localhost/touchdown-python-base:trixie-$(sha256sum "$bundle" 2>/dev/null | cut -c1-12)}"
store=(--storage-driver vfs)
# Test files that build images run side by side: the first installs what is missing and builds the
# base, the others wait for it (three apt-get at once on a fresh machine would fight over dpkg's lock).
exec 9>"${TMPDIR:-/tmp}/touchdown-test-base.lock"
flock 9
need=()
command -v podman >/dev/null || need+=(podman)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt=(apt-get -o DPkg::Lock::Timeout=600 -y -q)
    "${apt[@]}" install "${need[@]}" >/dev/null || { "${apt[@]}" update >/dev/null && "${apt[@]}" install "${need[@]}" >/dev/null; }
  else
    echo "install ${need[*]} (Debian/Ubuntu: sudo apt-get install ${need[*]}), then run this again" >&2
    exit 1
  fi
fi
if podman "${store[@]}" image exists "$image"; then echo "$image"; exit 0; fi
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
# Debian's default mirror, as apt here reaches it. trixie: Python 3.13, recent enough for every Django release projects pin today (Django 6 needs 3.12+).
debootstrap --variant=minbase --include=python3,python3-venv,python-is-python3,ca-certificates,adduser \
  trixie "$root" >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; exit 1; }
[ -f "$bundle" ] && cp "$bundle" "$root/etc/ssl/certs/ca-certificates.crt"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | podman "${store[@]}" import - "$image" >/dev/null
rm -f "$root.log"
echo "$image"
