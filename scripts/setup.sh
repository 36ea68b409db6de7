#!/usr/bin/env bash
# setup.sh - make a fresh Debian 12 machine ready to build, test, fuzz and
# benchmark mailstage.  Run as root.  Idempotent: a re-run on a ready machine
# only checks (dpkg-query) and returns in well under a second.
#
# What it does, and prints:
#   - installs the Debian packages listed below (apt-get, no recommends),
#     with services kept from starting during the install;
#   - creates the system user `vmail` that the test Dovecot instances use
#     for mail storage;
#   - extracts the package cyrus-imapd (Cyrus IMAP's imapd) to
#     /opt/cyrus-imapd for the interoperability test
#     (tests/lib/cyrus.sh): cyrus-imapd Conflicts with every other
#     imap-server, dovecot-imapd included, so it is unpacked, never
#     installed; its libraries, master and tools come from cyrus-common;
#   - extracts courier-imap (Courier-IMAP's imapd) and the libraries it
#     needs to /opt/courier-imap, for the same reason and use
#     (tests/lib/courier.sh);
#   - keeps the packaged Dovecot service from being started by this script:
#     tests run private instances (tests/lib/harness.sh) with their own
#     config, ports and run directory.  A system Dovecot started by someone
#     else is left alone; it cannot clash with the private ones.
set -euo pipefail

PACKAGES=(
	# build
	build-essential meson ninja-build pkg-config
	# fuzzing (libFuzzer, sanitizers)
	clang libclang-rt-14-dev
	# libraries
	libcurl4-openssl-dev libssl-dev libfuse3-dev libarchive-dev
	libsqlite3-dev
	# runtime and test tools
	fuse3 libarchive-tools sqlite3 dovecot-imapd dovecot-core isync rsync
	attr mutt openssl zstd xz-utils valgrind procps iproute2 psmisc
	# the benches: /usr/bin/time -v (CPU, peak RSS)
	time
	# bench/wan.sh: OfflineIMAP, a peer beside mbsync (isync)
	offlineimap3
	# batch tests: a real local SMTP server for status mail, GNU parallel for shards
	postfix parallel
	# interoperability test: Cyrus IMAP (imapd itself: see install_cyrus_imapd)
	cyrus-common cyrus-admin sasl2-bin
	# CPU load beside a test looped for a flake (stress-ng --cpu 2)
	stress-ng
	ca-certificates
	# docs (rst2man)
	python3-docutils
)

say() { printf 'setup: %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "setup: must run as root (apt-get, useradd)" >&2
	exit 1
fi

missing_packages() {
	# one dpkg-query for all: names it does not know go to stderr
	local installed
	installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' \
		"${PACKAGES[@]}" 2>/dev/null | awk '$2 == "installed" {print $1}' || true)
	local p
	for p in "${PACKAGES[@]}"; do
		grep -qx -- "$p" <<<"$installed" || printf '%s\n' "$p"
	done
}

# Keep invoke-rc.d/deb-systemd-invoke from starting services (Dovecot above
# all) while packages install; the policy file is removed again on exit.
POLICY=/usr/sbin/policy-rc.d
policy_installed=0
remove_policy() {
	if [ "$policy_installed" = 1 ]; then
		rm -f "$POLICY"
	fi
}
trap remove_policy EXIT

install_packages() {
	local -a missing
	mapfile -t missing < <(missing_packages)
	if [ "${#missing[@]}" -eq 0 ]; then
		say "all ${#PACKAGES[@]} packages already installed"
		return
	fi
	say "installing: ${missing[*]}"
	if [ ! -e "$POLICY" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$POLICY"
		chmod 0755 "$POLICY"
		policy_installed=1
	fi
	local dovecot_was_installed=0
	if dpkg-query -W -f='${db:Status-Status}' dovecot-core 2>/dev/null | grep -qx installed; then
		dovecot_was_installed=1
	fi
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
	if [ "$dovecot_was_installed" = 0 ]; then
		disable_packaged_dovecot
	fi
	local still
	still=$(missing_packages)
	if [ -n "$still" ]; then
		echo "setup: still missing after apt-get: $still" >&2
		exit 1
	fi
	say "packages installed"
}

# Only for a Dovecot this script installed: do not start it at boot either.
disable_packaged_dovecot() {
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
		systemctl disable dovecot.service dovecot.socket >/dev/null 2>&1 || true
		say "packaged dovecot service disabled (systemd)"
	elif [ -x /etc/init.d/dovecot ] && command -v update-rc.d >/dev/null; then
		update-rc.d dovecot disable >/dev/null 2>&1 || true
		say "packaged dovecot service disabled (sysv)"
	fi
}

# unpack_debs ROOT PKG...: download the packages (never install them) and
# extract them all into ROOT; ROOT/VERSION gets the first package's version.
# For servers whose packages Conflict with imap-server, which dovecot-imapd
# provides: installing them would remove Dovecot.
unpack_debs() {
	local root=$1 tmp d
	shift
	tmp=$(mktemp -d)
	# apt-get download fetches as _apt, which must be able to write there
	getent passwd _apt >/dev/null && chown _apt "$tmp"
	# the package lists may be missing or stale when every package was
	# installed already (install_packages then ran no apt-get update)
	(cd "$tmp" && apt-get download -q "$@" >/dev/null 2>&1) ||
		(apt-get update >/dev/null && cd "$tmp" && apt-get download -q "$@" >/dev/null) || {
		rm -rf "$tmp"
		echo "setup: apt-get download $* failed" >&2
		exit 1
	}
	mkdir -p "$root"
	for d in "$tmp"/*.deb; do
		dpkg-deb -x "$d" "$root"
	done
	dpkg-deb -f "$tmp/${1%%=*}"_*.deb Version >"$root/VERSION"
	rm -rf "$tmp"
}

# unpacked ROOT BINARY VERSION: true if ROOT holds BINARY from VERSION.
unpacked() {
	[ -x "$1/$2" ] && [ "$(cat "$1/VERSION" 2>/dev/null)" = "$3" ]
}

# Cyrus's imapd from the cyrus-imapd package of the same version as the
# installed cyrus-common (cyrus-imapd Conflicts with imap-server).
CYRUS_ROOT=/opt/cyrus-imapd
install_cyrus_imapd() {
	local ver
	ver=$(dpkg-query -W -f='${Version}' cyrus-common)
	if unpacked "$CYRUS_ROOT" usr/lib/cyrus/bin/imapd "$ver"; then
		say "cyrus imapd $ver present in $CYRUS_ROOT"
		return
	fi
	unpack_debs "$CYRUS_ROOT" "cyrus-imapd=$ver"
	say "cyrus-imapd $ver unpacked to $CYRUS_ROOT"
}

# Courier-IMAP's imapd (courier-imap Conflicts with imap-server too) with
# the libraries it needs that nothing installs: courier-authlib
# (libcourierauth), libcourier-unicode4, libgamin0 (libfam).
# tests/lib/courier.sh runs it behind a small login front.
COURIER_ROOT=/opt/courier-imap
COURIER_DEBS=(courier-imap courier-authlib libcourier-unicode4 libgamin0)
install_courier_imapd() {
	local ver
	ver=$(apt-cache policy courier-imap 2>/dev/null | awk '/Candidate:/ { print $2 }')
	if unpacked "$COURIER_ROOT" usr/bin/imapd "$ver"; then
		say "courier imapd $ver present in $COURIER_ROOT"
		return
	fi
	unpack_debs "$COURIER_ROOT" "${COURIER_DEBS[@]}"
	say "courier-imap $(cat "$COURIER_ROOT/VERSION") unpacked to $COURIER_ROOT"
}

make_vmail() {
	if getent passwd vmail >/dev/null; then
		say "user vmail exists (uid $(id -u vmail))"
		return
	fi
	local nologin=/usr/sbin/nologin
	[ -x "$nologin" ] || nologin=/bin/false
	useradd --system --user-group --home-dir /nonexistent --no-create-home \
		--shell "$nologin" vmail
	say "created system user vmail (uid $(id -u vmail))"
}

report_dovecot() {
	if pgrep -x dovecot >/dev/null 2>&1; then
		say "note: a dovecot process is running (not started by this script; left alone)"
	else
		say "no dovecot service running"
	fi
	for u in dovecot dovenull; do
		getent passwd "$u" >/dev/null || { echo "setup: user $u missing (dovecot-core broken?)" >&2; exit 1; }
	done
}

install_packages
install_cyrus_imapd
install_courier_imapd
make_vmail
report_dovecot
say "done"
