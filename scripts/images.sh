#!/usr/bin/env bash
# images.sh [SUITE...]: build the systemd-capable Debian lab images with debootstrap
# from the host's Debian mirror and `docker import` them (registry images cannot be
# pulled). An image is rebuilt only when this recipe changes: its hash is stored in
# the image label gpufleet.recipe.
. "$(dirname "$0")/lib.sh"

# The packages every lab/molecule node needs before any role runs: systemd as PID 1, python3 (+apt bindings)
# for Ansible, ssh, and curl for smoke checks. What a role installs itself (rsync, zstd, nftables, nginx, keepalived:
# tests/integration/lab_packages.yml) is left out: the lab is air-gapped, and a node gets those only from the local
# apt repository a role publishes from the .debs tests/integration/stage_packages.py staged for this image, as an
# air-gapped node gets them from the fleet's package mirror.
GF_IMAGE_PACKAGES=systemd,systemd-sysv,dbus,python3,python3-apt,iproute2,procps,sudo,openssh-server,curl,ca-certificates
GF_IMAGE_REPO=${GF_IMAGE_REPO:-local/gpufleet-debian}

recipe_hash() {
  { sed -n '/^GF_IMAGE_PACKAGES=/p;/^build_image()/,/^}/p' "$GF_ROOT/scripts/images.sh"; echo "$1"; } \
    | sha256sum | cut -c1-16
}

build_image() {
  local suite=$1 tag=$GF_IMAGE_REPO:$1 want have rootfs mirror
  want=$(recipe_hash "$suite")
  have=$(docker image inspect -f '{{ index .Config.Labels "gpufleet.recipe" }}' "$tag" 2>/dev/null || true)
  if [ "$have" = "$want" ]; then
    log "image $tag is up to date (recipe $want): reused"
    return 0
  fi
  mirror=$(debian_mirror)
  [ -n "$mirror" ] || die "no Debian mirror found in the host's apt sources"
  rootfs=$(mktemp -d /var/tmp/gpufleet-rootfs.XXXXXX)
  GF_ROOTFS=$rootfs
  trap '[ -z "${GF_ROOTFS:-}" ] || rm -rf "$GF_ROOTFS" "$GF_ROOTFS.log"' EXIT
  log "debootstrap $suite into $rootfs"
  debootstrap --variant=minbase --include="$GF_IMAGE_PACKAGES" "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 \
    || { tail -n 30 "$rootfs.log" >&2; rm -rf "$rootfs"; die "debootstrap $suite failed"; }
  # Boot faster and quieter in a container: no getty, no udev-trigger noise.
  rm -f "$rootfs"/etc/systemd/system/getty.target.wants/* "$rootfs"/lib/systemd/system/multi-user.target.wants/getty.target
  : >"$rootfs/etc/machine-id"
  tar -C "$rootfs" -c . | docker import \
    -c 'CMD ["/lib/systemd/systemd"]' \
    -c "LABEL gpufleet.recipe=$want gpufleet.suite=$suite" - "$tag" >/dev/null
  rm -rf "$rootfs" "$rootfs.log"
  GF_ROOTFS=
  log "built $tag (recipe $want)"
}

# refresh_image SUITE: build_image, then drop the image it replaced (only that one).
refresh_image() {
  local old new
  old=$(docker image inspect -f '{{ .Id }}' "$GF_IMAGE_REPO:$1" 2>/dev/null || true)
  build_image "$1"
  new=$(docker image inspect -f '{{ .Id }}' "$GF_IMAGE_REPO:$1")
  if [ -n "$old" ] && [ "$old" != "$new" ]; then
    docker image rm "$old" >/dev/null 2>&1 || log "old $1 image $old is still used by a container: kept"
  fi
}

main() {
  ensure_apt debootstrap debian-archive-keyring
  ensure_docker
  local suites=("$@") s
  [ ${#suites[@]} -gt 0 ] || suites=(bookworm trixie)
  for s in "${suites[@]}"; do refresh_image "$s"; done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
