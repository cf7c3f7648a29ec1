#!/usr/bin/env bash
# Shared helpers for the project's own scripts (lab, test). Sourced, never run.
# Everything a fresh Debian 12 machine needs is installed from here: apt packages,
# the docker engine, the locally built images, the Python venv and the collections.
set -euo pipefail

GF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GF_VENV=${GF_VENV:-$GF_ROOT/.venv}
GF_STATE=${GF_STATE:-$GF_ROOT/.lab}
export NO_COLOR=1 PY_COLORS=0 ANSIBLE_FORCE_COLOR=0
export ANSIBLE_CONFIG=$GF_ROOT/ansible.cfg

log() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# ensure_apt PKG...: install the Debian packages that are missing (one apt-get update, at most).
__gf_apt_updated=0
ensure_apt() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing packages ${missing[*]}: run as root or install them first"
  log "apt-get install ${missing[*]}"
  if [ "$__gf_apt_updated" -eq 0 ]; then
    apt-get update -qq
    __gf_apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# debian_mirror: the first non-security Debian mirror URI from the host's apt sources.
debian_mirror() {
  local d822=/etc/apt/sources.list.d/debian.sources list=/etc/apt/sources.list
  if [ -r "$d822" ]; then
    awk '/^URIs:/{print $2; exit}' "$d822"
  else
    awk '$1=="deb" && $0 !~ /security/ {for (i=2; i<=NF; i++) if ($i ~ /^(https?|file):/) {print $i; exit}}' "$list"
  fi
}

# ensure_docker: the docker engine from Debian, started here when it is not running.
ensure_docker() {
  if docker info >/dev/null 2>&1; then return 0; fi
  ensure_apt docker.io
  if ! docker info >/dev/null 2>&1; then
    log "starting dockerd"
    setsid dockerd >/var/log/gpufleet-dockerd.log 2>&1 </dev/null &
    local i
    for i in $(seq 1 60); do
      docker info >/dev/null 2>&1 && return 0
      sleep 1
    done
    tail -n 20 /var/log/gpufleet-dockerd.log >&2 || true
    die "dockerd did not come up within 60 s (log: /var/log/gpufleet-dockerd.log)"
  fi
}

# ensure_venv: the dev toolchain pinned in pyproject.toml, plus ansible.posix,
# community.general and community.docker copied out of PyPI's `ansible` wheel
# (Galaxy is unreachable). Rebuilt only when pyproject.toml changes.
ensure_venv() {
  local stamp want
  want=$(sha256sum <"$GF_ROOT/pyproject.toml" | cut -c1-16)
  stamp=$GF_VENV/.gpufleet-stamp
  if [ -r "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    ensure_collection_link
    return 0
  fi
  python3 -c 'import ensurepip, venv' 2>/dev/null || ensure_apt python3-venv
  log "creating the Python venv ($GF_VENV)"
  rm -rf "$GF_VENV"
  python3 -m venv "$GF_VENV"
  "$GF_VENV/bin/pip" install -q --disable-pip-version-check -U 'pip>=25.1'
  "$GF_VENV/bin/pip" install -q --disable-pip-version-check --group "$GF_ROOT/pyproject.toml:dev"
  local tmp
  tmp=$(mktemp -d)
  "$GF_VENV/bin/python" - "$GF_ROOT/pyproject.toml" "$tmp" <<'PY'
import subprocess, sys, sysconfig, tomllib, zipfile, glob
cfg = tomllib.load(open(sys.argv[1], "rb"))["tool"]["gpufleet"]
tmp = sys.argv[2]
subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
                "-d", tmp, "ansible==" + cfg["ansible-collections-wheel"]], check=True)
keep = tuple("ansible_collections/%s/" % c.replace(".", "/") for c in cfg["collections"])
with zipfile.ZipFile(glob.glob(tmp + "/ansible-*.whl")[0]) as z:
    for m in z.namelist():
        if m.startswith(keep):
            z.extract(m, sysconfig.get_paths()["purelib"])
PY
  rm -rf "$tmp"
  echo "$want" >"$stamp"
  ensure_collection_link
}

# ensure_collection_link: the checkout itself is the collection gpufleet.ollama,
# found through collections_path in ansible.cfg (no installed copy).
ensure_collection_link() {
  local d=$GF_ROOT/.collections/ansible_collections/gpufleet
  mkdir -p "$d"
  [ -L "$d/ollama" ] || ln -sfn ../../.. "$d/ollama"
}

activate_venv() {
  # shellcheck disable=SC1091
  . "$GF_VENV/bin/activate"
}

# seed_ansible_test_pip: the pip bootstrap that ansible-test fetches for every sanity venv
# (get-pip.py from a CI-files host that is unreachable here) is written into its cache instead,
# ~/.ansible/test/cache/get_pip_<pip version>.py, the exact name ansible-test looks up first.
# The stand-in runs ensurepip, then installs ansible-test's pinned pip from PyPI. It also gives
# the new venv its own pip.conf that resets the machine's pip configuration (local indexes,
# find-links, constraints), so every sanity requirement comes from PyPI with ansible-test's own
# pins; only the CA bundle is kept, because ansible-test strips the environment to HOME, PATH
# and LC_ALL. Idempotent: the file is rewritten only when its content changes.
seed_ansible_test_pip() {
  local python=${1:-python3} version cert cache new
  version=$("$python" -c 'import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version="%d.%d" % __import__("sys").version_info[:2]))["pip"])') ||
    die "cannot read the pip version ansible-test bootstraps (is ansible-core installed in $python?)"
  cert=${PIP_CERT:-$("$python" -m pip config get global.cert 2>/dev/null || true)}
  [ -n "$cert" ] || cert=${SSL_CERT_FILE:-}
  [ -z "$cert" ] || [ -r "$cert" ] || cert=
  cache=$HOME/.ansible/test/cache/get_pip_${version//./_}.py
  mkdir -p "${cache%/*}"
  new=$(mktemp "$cache.XXXXXX")
  sed "s|@CERT@|$cert|" >"$new" <<'PY'
"""Stand-in for get-pip.py, written by gpufleet scripts/lib.sh (seed_ansible_test_pip).

ansible-test runs it inside a new, pip-less venv as: get_pip.py [pip options] pip==X [--no-setuptools] [--no-wheel].
"""
import os
import subprocess
import sys

CERT = "@CERT@"
GET_PIP_ONLY = ("--no-setuptools", "--no-wheel", "--no-pip")


def main():
    args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
    if sys.prefix != sys.base_prefix:
        # settings of this venv only (they override the host's): PyPI, and none of the host's
        # local indexes, find-links or constraints
        pypi = subprocess.check_output([sys.executable, "-c", "from pip._internal.models.index import PyPI; print(PyPI.simple_url)"],
                                       text=True).strip()
        lines = ["[global]", "index-url = " + pypi, "extra-index-url =", "find-links =", "constraint ="]
        if CERT:
            lines.append("cert = " + CERT)
        with open(os.path.join(sys.prefix, "pip.conf"), "w") as conf:
            conf.write("\n".join(lines) + "\n")
    subprocess.check_call([sys.executable, "-m", "pip", "install", *args])


if __name__ == "__main__":
    main()
PY
  if cmp -s "$new" "$cache"; then
    rm -f "$new"
  else
    mv -f "$new" "$cache"
    log "seeded the ansible-test pip $version bootstrap: $cache"
  fi
}
