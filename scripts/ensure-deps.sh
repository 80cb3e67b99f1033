#!/usr/bin/env bash
# ensure-deps.sh [pkg...]
#
# Make sure the given Debian packages are installed.
#   - all installed           -> exit 0, no output
#   - missing, running as root -> install them non-interactively (one status
#                                 line; apt output is shown only on failure).
#                                 "apt-get update" runs only if the first
#                                 install attempt fails.
#   - missing, not root        -> print what is missing and the command to
#                                 run, exit 1
# Exit status: 0 ok, 1 missing/install failed, 2 usage error.
set -u

prog=${0##*/}

if [ $# -eq 0 ]; then
    exit 0
fi
case $1 in
    -h|--help)
        sed -n '2,12s/^# \{0,1\}//p' "$0"
        exit 0
        ;;
esac

for p in "$@"; do
    # Debian package name (optionally :arch). This also rejects anything that
    # apt-get would parse as an option.
    if ! [[ $p =~ ^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?$ ]]; then
        echo "$prog: invalid package name: '$p'" >&2
        exit 2
    fi
done

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "$prog: dpkg-query not found (not a Debian-based system?);" \
         "please install the equivalent of: $*" >&2
    exit 1
fi

# installed PKG: true if dpkg has it (one status line per architecture).
installed() {
    local status
    status=$(dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null) || return 1
    case $'\n'"$status"$'\n' in
        *$'\n'"install ok installed"$'\n'*) return 0 ;;
        *) return 1 ;;
    esac
}

missing=()
for p in "$@"; do
    installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "$prog: missing Debian package(s): ${missing[*]}" >&2
    echo "$prog: install them with:" \
         "sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

echo "$prog: installing: ${missing[*]}" >&2

export DEBIAN_FRONTEND=noninteractive
# Wait for the dpkg/apt lock (e.g. parallel builds) instead of failing at once.
apt_opts=(-q -o DPkg::Lock::Timeout=300)
log=$(mktemp "${TMPDIR:-/tmp}/ensure-deps.XXXXXX") || exit 1
trap 'rm -f "$log"' EXIT

install() {
    apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}" \
        >>"$log" 2>&1 </dev/null
}

if ! install; then
    # Most often stale or absent package lists (fresh container): refresh, retry.
    if ! apt-get "${apt_opts[@]}" update >>"$log" 2>&1 </dev/null || ! install; then
        cat "$log" >&2
        echo "$prog: failed to install: ${missing[*]}" >&2
        exit 1
    fi
fi

# Double-check, e.g. apt-get succeeded but a name was a virtual package.
still=()
for p in "${missing[@]}"; do
    installed "$p" || still+=("$p")
done
if [ ${#still[@]} -ne 0 ]; then
    cat "$log" >&2
    echo "$prog: still not installed after apt-get: ${still[*]}" >&2
    exit 1
fi
exit 0
