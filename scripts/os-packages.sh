#!/usr/bin/env bash
# scripts/os-packages.sh: install the Debian packages Hejie needs that are missing (apt-get, via
# sudo when not root; sudo asks for a password only on a terminal).
#   bash scripts/os-packages.sh test|demo   what scripts/os-packages.txt lists for that use; when
#                                           they cannot be installed, say how and go on (exit 0)
#   bash scripts/os-packages.sh PKG...      exactly these (scripts/services.ts: postgresql,
#                                           redis-server); exit 1 when they cannot be installed
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
case ${1:-} in
'') echo "usage: $0 test|demo|PKG..." >&2 && exit 2 ;;
test | demo)
  strict=0
  # shellcheck disable=SC2016 # awk program
  mapfile -t wanted < <(awk -v use="$1" '/^[^#]/ { for (i = 2; i <= NF && $i != "#"; i++) if ($i == use) print $1 }' "$here/os-packages.txt")
  ;;
*) strict=1 wanted=("$@") ;;
esac

missing=()
for p in "${wanted[@]}"; do
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || missing+=("$p")
done
((${#missing[@]})) || exit 0

give_up() {
  echo "os-packages: $1; install them yourself: apt-get install ${missing[*]}" >&2
  exit $strict
}
command -v apt-get >/dev/null || give_up "${missing[*]} missing and there is no apt-get"
sudo=()
if ((EUID != 0)); then
  command -v sudo >/dev/null && { sudo -n true 2>/dev/null || [[ -t 0 ]]; } ||
    give_up "${missing[*]} missing and no root or sudo to install them"
  sudo=(sudo)
fi
log=$(mktemp)
echo "os-packages: installing ${missing[*]} with apt-get (log: $log)" >&2
apt() { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q "$@" >>"$log" 2>&1 </dev/null; }
if apt install --no-install-recommends "${missing[@]}" ||
  { apt update && apt install --no-install-recommends "${missing[@]}"; }; then
  rm -f "$log"
  exit 0
fi
tail -n 15 "$log" >&2
give_up "apt-get install ${missing[*]} failed (log: $log)"
