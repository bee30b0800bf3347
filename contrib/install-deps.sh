#!/bin/sh
# Install the Debian 12 packages the build and the tests need, and only the
# ones that are missing.  Run by 'make deps' (and so by 'make check').
set -e

packages="
build-essential
clang
iproute2
libbsd-dev
libcurl4-openssl-dev
libinih-dev
libnng-dev
libsodium-dev
libtkrzw-dev
libzstd-dev
mandoc
nng-utils
perl
pkg-config
procps
"

missing=
for p in $packages; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done

[ -z "$missing" ] && exit 0

echo "install-deps: missing Debian packages:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: not root; run as root:" >&2
	echo "    apt-get install -y$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || true
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
