# harness.sh - shared set-up for mailstage's integration tests and demo.
#
# Source it from bash, then call harness_init.  It gives each test a private
# temporary directory $T, private Dovecot 2.3 servers on free 127.0.0.1
# ports (TLS with a private CA), seeded mailboxes, an independent IMAP client
# (tests/lib/imaptool.py) to look at what a server holds, and a teardown on
# EXIT/INT/TERM that stops everything the test started: Dovecot instances,
# FUSE mounts and processes registered with harness_register_*.  A watchdog
# (harness_timeout) ends a test that hangs.
#
# Conventions:
#   - exit 0 pass, 1 fail, 77 skip (meson's convention);
#   - every resource a test starts is recorded in a file under $T/.reg so
#     that both the EXIT trap and the watchdog (another process) can undo it;
#   - nothing here touches a Dovecot or mount this test did not start;
#   - passwords live in files ($T/NAME/pass-USER, mode 0600), never in argv.
#
# Read from the environment: HARNESS_WRAP, a command every mailstage run goes
# through (scripts/valgrind.sh).
# Variables it exports: T, MAILSTAGE, MAILSTAGE_CORPUS, REPO_TOP, HARNESS_LIB,
# HARNESS_PYTHON, IMAPTOOL, HARNESS_USERS, CA_FILE, TLS_DIR, SEED_PLAN and,
# per server NAME (upper-cased), NAME_PORT NAME_TLSPORT NAME_CONF
# NAME_MAILDIR NAME_DIR NAME_LOG NAME_SEP.
#
# Functions (each documented where it is defined):
#   harness_init, harness_timeout SECS, harness_done
#   harness_need_root, harness_need_mailstage, harness_need_fuse
#   harness_register_pid PID, harness_register_mount DIR, harness_rss_limit_kib KIB
#   harness_relay NAME PORT [RELAY-OPTIONS...], harness_relay_stop NAME
#   harness_free_port, harness_port_open PORT, harness_ca
#   dovecot_start NAME [--sep .|/] [--cert good|wrongname|selfsigned|expired]
#                      [--listescape] [--quota SIZE] [--extra CONF]
#                      [--profile exchange|gmail|plain]
#   dovecot_profile_caps PROFILE
#   dovecot_stop NAME, dovecot_kill NAME, dovecot_restart NAME,
#   dovecot_pids NAME, dovecot_imap_pids NAME USER
#   seed_corpus NAME USER FOLDER [GLOB|LIST-FILE]
#   seed_message NAME USER FOLDER FILE [FLAGS] [DATE]
#   imap_dump NAME USER FOLDER, imap_folders NAME USER,
#   imap_tool NAME USER SUBCOMMAND..., imaptool ARGS..., pass_file NAME USER
#   pass MSG, fail MSG, skip REASON, assert_eq GOT WANT MSG,
#   assert_ne GOT UNWANTED MSG, assert_contains TEXT NEEDLE MSG,
#   assert_status WANT MSG CMD...
# shellcheck shell=bash

HARNESS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_TOP=$(cd "$HARNESS_LIB/../.." && pwd)
IMAPTOOL=$HARNESS_LIB/imaptool.py
HARNESS_USERS="alice bob carol dave erin frank grace heidi"
export REPO_TOP HARNESS_LIB IMAPTOOL HARNESS_USERS

# imaptool.py runs under any python3; a shim (pyenv) on PATH costs a second
# a call, so take the real interpreter once.
if [ -z "${HARNESS_PYTHON:-}" ]; then
	if [ -x /usr/bin/python3 ]; then
		HARNESS_PYTHON=/usr/bin/python3
	else
		HARNESS_PYTHON=$(python3 -c 'import sys; print(sys.executable)')
	fi
fi
export HARNESS_PYTHON

_HARNESS_CHECKS=0

# ------------------------------------------------------------ reporting

harness_log() { printf 'harness: %s\n' "$*" >&2; }

# pass MSG: record one passed check.
pass() {
	_HARNESS_CHECKS=$((_HARNESS_CHECKS + 1))
	printf 'ok %d - %s\n' "$_HARNESS_CHECKS" "$*"
}

# fail MSG: report a failed check and end the test (exit 1, teardown runs).
fail() {
	printf 'not ok %d - %s\n' "$((_HARNESS_CHECKS + 1))" "$*"
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

# skip REASON: end the test as skipped (exit 77).
skip() {
	printf 'SKIP: %s\n' "$*"
	exit 77
}

# assert_eq GOT WANT MSG
assert_eq() {
	if [ "$1" == "$2" ]; then
		pass "$3"
	else
		printf -- '--- got:\n%s\n--- want:\n%s\n' "$1" "$2" >&2
		fail "$3"
	fi
}

# assert_ne GOT UNWANTED MSG
assert_ne() {
	if [ "$1" != "$2" ]; then
		pass "$3"
	else
		printf -- '--- got (unwanted):\n%s\n' "$1" >&2
		fail "$3"
	fi
}

# assert_contains HAYSTACK NEEDLE MSG  (fixed string)
assert_contains() {
	if [[ "$1" == *"$2"* ]]; then
		pass "$3"
	else
		printf -- '--- text:\n%s\n--- does not contain:\n%s\n' "$1" "$2" >&2
		fail "$3"
	fi
}

# assert_status WANT MSG CMD...: run CMD, compare its exit status with WANT.
assert_status() {
	local want=$1 msg=$2 got=0
	shift 2
	"$@" || got=$?
	if [ "$got" = "$want" ]; then
		pass "$msg"
	else
		fail "$msg (exit status $got, want $want: $*)"
	fi
}

# harness_done: end a test that passed every check.
harness_done() {
	printf '%d passed, 0 failed\n' "$_HARNESS_CHECKS"
	exit 0
}

# ------------------------------------------------------------ set-up

harness_find_corpus() {
	local c
	for c in "${MAILSTAGE_CORPUS:-}" "$REPO_TOP/../shared/corpus" \
		"$REPO_TOP/../../shared/corpus"; do
		if [ -n "$c" ] && [ -d "$c" ]; then
			(cd "$c" && pwd)
			return 0
		fi
	done
	printf '%s\n' "${MAILSTAGE_CORPUS:-$REPO_TOP/../shared/corpus}"
}

# harness_init: private $T, traps, MAILSTAGE and MAILSTAGE_CORPUS.
harness_init() {
	T=$(mktemp -d /tmp/mailstage-test.XXXXXX) || {
		echo "harness: mktemp failed" >&2
		exit 1
	}
	# Dovecot's unprivileged processes (vmail, dovecot) must traverse $T.
	chmod 0711 "$T"
	mkdir -p "$T/.reg"
	: >"$T/.reg/instances"
	: >"$T/.reg/mounts"
	: >"$T/.reg/pids"
	: >"$T/.reg/ports"
	echo "$$" >"$T/.reg/main-pid"
	export T
	_HARNESS_MAIN=$$
	trap '_harness_on_exit' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	if [ -z "${MAILSTAGE:-}" ]; then
		if [ -n "${MESON_BUILD_ROOT:-}" ]; then
			MAILSTAGE=$MESON_BUILD_ROOT/tools/mailstage
		else
			MAILSTAGE=$REPO_TOP/build/tools/mailstage
		fi
	fi
	if [ -n "${HARNESS_WRAP:-}" ]; then
		# every mailstage run of the test goes through the wrapper
		# (scripts/valgrind.sh sets HARNESS_WRAP to a valgrind command)
		printf '#!/bin/sh\nexec %s %q "$@"\n' "$HARNESS_WRAP" "$MAILSTAGE" >"$T/mailstage-wrapped"
		chmod 0755 "$T/mailstage-wrapped"
		MAILSTAGE=$T/mailstage-wrapped
	fi
	MAILSTAGE_CORPUS=$(harness_find_corpus)
	export MAILSTAGE MAILSTAGE_CORPUS
}

# harness_need_root / harness_need_mailstage / harness_need_fuse:
# skip or fail early with a plain reason.
harness_need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (private Dovecot with mail_uid)"
	getent passwd vmail >/dev/null || fail "user vmail missing: run scripts/setup.sh"
}

harness_need_mailstage() {
	[ -x "$MAILSTAGE" ] || fail "mailstage binary not built: $MAILSTAGE"
}

harness_need_fuse() {
	[ -c /dev/fuse ] || skip "no /dev/fuse on this machine"
	command -v fusermount3 >/dev/null || skip "fusermount3 missing"
}

# harness_rss_limit_kib KIB: KIB for a normal build; under AddressSanitizer
# (its shadow memory and quarantine cost a fixed ~10 MiB more) KIB * 3 / 2;
# no bound under HARNESS_WRAP.
harness_rss_limit_kib() {
	if [ -n "${HARNESS_WRAP:-}" ]; then
		echo 99999999 # the wrapper's memory (valgrind's), not ours: no bound
	elif ldd "$MAILSTAGE" 2>/dev/null | grep -q libasan; then
		echo $(($1 * 3 / 2))
	else
		echo "$1"
	fi
}

harness_register_mount() { printf '%s\n' "$1" >>"$T/.reg/mounts"; }
harness_register_pid() { printf '%s\n' "$1" >>"$T/.reg/pids"; }

# harness_free_port: a TCP port on 127.0.0.1 free now and not handed out
# before in this test.
harness_free_port() {
	local port i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		port=$("$HARNESS_PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])') || return 1
		if ! grep -qx "$port" "$T/.reg/ports" 2>/dev/null; then
			echo "$port" >>"$T/.reg/ports"
			echo "$port"
			return 0
		fi
	done
	echo "harness: no free port found" >&2
	return 1
}

# harness_relay NAME PORT [RELAY-OPTIONS...]: tests/tools/relay (a link
# model: --delay-ms, --rate; or a fault: --c2s, --s2c, --stall) in front of
# 127.0.0.1:PORT; its own port in RELAY_PORT.  Call it in the test's shell
# (not in $(...)): the relay is that shell's child.  Its stderr goes to
# $T/relay-NAME.err.
harness_relay() {
	local name=$1 to=$2 bin=${HARNESS_RELAY:-${MESON_BUILD_ROOT:-$REPO_TOP/build}/tests/tools/relay}
	shift 2
	[ -x "$bin" ] || fail "relay not built: $bin"
	rm -f "$T/relay-$name.port"
	"$bin" --to "$to" --port-file "$T/relay-$name.port" "$@" 2>"$T/relay-$name.err" &
	echo "$!" >"$T/relay-$name.pid"
	harness_register_pid "$!"
	for _ in $(seq 1 200); do
		if [ -s "$T/relay-$name.port" ]; then
			RELAY_PORT=$(cat "$T/relay-$name.port")
			return 0
		fi
		kill -0 "$(cat "$T/relay-$name.pid")" 2>/dev/null || break
		sleep 0.05
	done
	cat "$T/relay-$name.err" >&2
	fail "relay $name did not start"
}

# harness_relay_stop NAME: SIGTERM the relay, wait for it; its last line
# (bytes carried each way, its CPU time: see relay.c) in RELAY_STATS.  Call
# it in the shell that started the relay.
harness_relay_stop() {
	local pid
	RELAY_STATS=
	pid=$(cat "$T/relay-$1.pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	for _ in $(seq 1 100); do # not this shell's child: wait returned at once
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	rm -f "$T/relay-$1.pid"
	RELAY_STATS=$(grep '^relay: .* bytes c2s' "$T/relay-$1.err" | tail -n 1)
}

# ------------------------------------------------------------ TLS

# harness_ca: private CA + certificates in $T/tls (once per test):
#   ca.pem/ca.key              the CA; exported as CA_FILE
#   good.pem/good.key          localhost, SAN DNS:localhost IP:127.0.0.1
#   wrongname.pem/wrongname.key  same CA, only DNS:wronghost.invalid
#   selfsigned.pem/selfsigned.key  localhost names, not from the CA
#   expired.pem/expired.key    like good, but its validity ended yesterday
harness_ca() {
	TLS_DIR=$T/tls
	CA_FILE=$TLS_DIR/ca.pem
	export TLS_DIR CA_FILE
	[ -s "$TLS_DIR/selfsigned.pem" ] && return 0
	mkdir -p "$TLS_DIR"
	local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
	(
		set -e
		cd "$TLS_DIR"
		openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 2 \
			-subj "/CN=mailstage test CA $(basename "$T")" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign"
		_harness_leaf good localhost "DNS:localhost,IP:127.0.0.1"
		_harness_leaf wrongname wronghost.invalid "DNS:wronghost.invalid"
		_harness_leaf expired localhost "DNS:localhost,IP:127.0.0.1" -1
		openssl req -x509 "${ec[@]}" -keyout selfsigned.key \
			-out selfsigned.pem -days 2 -subj "/CN=localhost" \
			-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
			-addext "basicConstraints=critical,CA:FALSE"
		chmod 0600 ./*.key
	) >"$T/tls.log" 2>&1 || {
		cat "$T/tls.log" >&2
		fail "harness_ca: openssl failed"
	}
}

# _harness_leaf NAME CN SANS [DAYS]: a server certificate signed by ca.pem
# (cwd), valid DAYS (default 2; -1: expired a day ago).
_harness_leaf() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$1.key" -out "$1.csr" -subj "/CN=$2"
	printf '%s\n' "subjectAltName=$3" "basicConstraints=critical,CA:FALSE" \
		"keyUsage=critical,digitalSignature,keyEncipherment" \
		"extendedKeyUsage=serverAuth" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
		-days "${4:-2}" -extfile "$1.ext" -out "$1.pem"
}

# ------------------------------------------------------------ Dovecot

_harness_upper() {
	local name=$1
	[[ "$name" =~ ^[A-Za-z][A-Za-z0-9_]*$ ]] || fail "bad server name '$name'"
	printf '%s\n' "${name^^}"
}

# _harness_var NAME SUFFIX: value of ${NAME^^}_SUFFIX
_harness_var() {
	local v
	v="$(_harness_upper "$1")_$2"
	printf '%s\n' "${!v:-}"
}

# dovecot_start NAME [--sep .|/] [--cert good|wrongname|selfsigned|expired]
#                    [--listescape] [--quota SIZE] [--extra CONFIG-TEXT]
# A private Dovecot 2.3 for this test.  Exports NAME_PORT (IMAP, plain and
# STARTTLS), NAME_TLSPORT (IMAPS), NAME_CONF, NAME_MAILDIR (mail root: a
# user's Maildir is $NAME_MAILDIR/USER/Maildir), NAME_DIR, NAME_LOG,
# NAME_SEP, with NAME upper-cased.  Users: $HARNESS_USERS with password
# pw-USER-Secret1 in $T/NAME/pass-USER; master user admin (USER*admin).
# --sep / (default): Maildir LAYOUT=fs, hierarchy separator '/'.
# --sep .: Maildir++, separator '.'; such a server refuses a '/' inside a
#   folder name ("Name must not have '/' characters") unless --listescape
#   loads the listescape plugin (stored escaped as \2f on disk).
# --quota SIZE: every user gets a storage quota of SIZE (Dovecot's syntax:
#   100M, 1G) with the maildir backend, and IMAP offers QUOTA (imap_quota).
# --extra: config text appended at the end (later settings win).
# --profile P: announce what a kind of server announces (see
#   dovecot_profile_caps); its settings go in where the option stands among
#   --quota and --extra (later settings win).
dovecot_start() {
	local name=$1 sep=/ cert=good extra=""
	shift || fail "dovecot_start: NAME missing"
	while [ $# -gt 0 ]; do
		case $1 in
		--sep) sep=$2; shift 2 ;;
		--cert) cert=$2; shift 2 ;;
		--extra) extra+=$2$'\n'; shift 2 ;;
		--listescape)
			extra+=$'mail_plugins = $mail_plugins listescape\nplugin {\n  listescape_char = "\\\\"\n}\n'
			shift ;;
		--profile)
			dovecot_profile_caps "$2" >/dev/null ||
				fail "dovecot_start: no server profile '$2' (exchange, gmail, plain)"
			extra+=$(_dovecot_profile_conf "$2")$'\n'
			shift 2 ;;
		--quota)
			[[ "$2" =~ ^[0-9]+[KMGT]?$ ]] || fail "dovecot_start: bad --quota $2"
			extra+=$'mail_plugins = $mail_plugins quota\nprotocol imap {\n  mail_plugins = $mail_plugins imap_quota\n}\n'
			extra+=$'plugin {\n  quota = maildir:User quota\n  quota_rule = *:storage='"$2"$'\n}\n'
			shift 2 ;;
		*) fail "dovecot_start: unknown option $1" ;;
		esac
	done
	case $sep in /|.) ;; *) fail "dovecot_start: --sep must be . or /" ;; esac
	case $cert in good|wrongname|selfsigned|expired) ;; *) fail "dovecot_start: bad --cert $cert" ;; esac
	harness_need_root
	local up dir
	up=$(_harness_upper "$name") || exit 1
	dir=$T/$name
	[ -e "$dir" ] && fail "dovecot_start: server $name already exists"
	harness_ca
	mkdir -p "$dir/run" "$dir/state" "$dir/mail"
	chmod 0711 "$dir"
	chown vmail:vmail "$dir/mail"
	chmod 0700 "$dir/mail"
	_dovecot_credentials "$dir"
	local port tlsport
	port=$(harness_free_port) || fail "no free port"
	tlsport=$(harness_free_port) || fail "no free port"
	_dovecot_conf "$name" "$dir" "$sep" "$cert" "$port" "$tlsport" "$extra" \
		>"$dir/dovecot.conf"
	echo "$name" >>"$T/.reg/instances"
	printf -v "${up}_PORT" '%s' "$port"
	printf -v "${up}_TLSPORT" '%s' "$tlsport"
	printf -v "${up}_CONF" '%s' "$dir/dovecot.conf"
	printf -v "${up}_MAILDIR" '%s' "$dir/mail"
	printf -v "${up}_DIR" '%s' "$dir"
	printf -v "${up}_LOG" '%s' "$dir/dovecot.log"
	printf -v "${up}_SEP" '%s' "$sep"
	export "${up}_PORT" "${up}_TLSPORT" "${up}_CONF" "${up}_MAILDIR" \
		"${up}_DIR" "${up}_LOG" "${up}_SEP"
	_dovecot_launch "$name"
}

# dovecot_profile_caps PROFILE: what a Dovecot started with --profile
# PROFILE announces after login (the greeting adds STARTTLS and AUTH=).
# The profiles model servers mailstage copies into across the internet:
#   exchange  Microsoft 365 / Exchange Online: LITERAL+, UIDPLUS, MOVE, no
#             MULTIAPPEND
#   gmail     Gmail without its own extensions: LITERAL- (Dovecot's
#             imap_literal_minus: it enforces it, a non-synchronizing
#             literal over 4096 bytes ends the session with BYE [TOOBIG]),
#             no MULTIAPPEND; QUOTA (imap_quota, 15 GB), COMPRESS=DEFLATE
#             (imap_zlib) and APPENDLIMIT=35651584 (quota_max_mail_size)
#             honoured.  Left out: X-GM-EXT-1 (Dovecot has no X-GM-LABELS,
#             X-GM-MSGID or X-GM-RAW: a client that believed it would get
#             BAD), XLIST (Dovecot answers XLIST with LIST lines, no
#             \Inbox: a client that asked for XLIST would miss them).
#             UTF8=ACCEPT stays: Dovecot 2.3 answers ENABLE UTF8=ACCEPT OK
#             without an ENABLED line, so a client that checks keeps mUTF-7.
#   plain     an older server: IMAP4rev1 only (synchronizing literals, one
#             message per APPEND, no UIDPLUS).
# What Dovecot 2.3 does with what it does not announce: it still takes it.
# {N+} literals (LITERAL+) of any size except under gmail's LITERAL-,
# several messages in one APPEND (MULTIAPPEND), ENABLE, UNSELECT, MOVE,
# XLIST; and it still answers APPEND with [APPENDUID] and COPY with
# [COPYUID] (UIDPLUS), which a real server without UIDPLUS never sends.
# Also unlike Exchange, its greeting and LOGIN answer carry [CAPABILITY]
# (a client there spends a round trip on CAPABILITY).  So a profile tests
# a client that follows the announced list; one that uses an unannounced
# extension is not caught here.
dovecot_profile_caps() {
	case $1 in
	exchange) echo "IMAP4rev1 SASL-IR UIDPLUS MOVE ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+" ;;
	gmail) echo "IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID CHILDREN UIDPLUS" \
		"COMPRESS=DEFLATE ENABLE MOVE CONDSTORE ESEARCH UTF8=ACCEPT LIST-EXTENDED" \
		"LIST-STATUS LITERAL- SPECIAL-USE APPENDLIMIT=35651584" ;;
	plain) echo "IMAP4rev1" ;;
	*) return 1 ;;
	esac
}

# _dovecot_profile_conf PROFILE: the settings of --profile PROFILE.
_dovecot_profile_conf() {
	printf 'imap_capability = %s\n' "$(dovecot_profile_caps "$1")" || return 1
	[ "$1" = gmail ] || return 0
	cat <<'EOF'
imap_literal_minus = yes
mail_plugins = $mail_plugins quota zlib
protocol imap {
  mail_plugins = $mail_plugins imap_quota imap_zlib
}
plugin {
  quota = count:User quota
  quota_rule = *:storage=15G
  quota_vsizes = yes
  quota_max_mail_size = 35651584
}
EOF
}

# _dovecot_credentials DIR: passdb files (readable by the auth process,
# which runs as user dovecot) and the tests' password files (0600).
_dovecot_credentials() {
	local dir=$1 u
	: >"$dir/users"
	for u in $HARNESS_USERS; do
		printf '%s:{PLAIN}pw-%s-Secret1\n' "$u" "$u" >>"$dir/users"
		(umask 077 && printf 'pw-%s-Secret1' "$u" >"$dir/pass-$u")
	done
	printf 'admin:{PLAIN}pw-admin-Secret1\n' >"$dir/masters"
	(umask 077 && printf 'pw-admin-Secret1' >"$dir/pass-admin")
	chgrp dovecot "$dir/users" "$dir/masters"
	chmod 0640 "$dir/users" "$dir/masters"
}

# _dovecot_conf NAME DIR SEP CERT PORT TLSPORT EXTRA: the config on stdout.
_dovecot_conf() {
	local name=$1 dir=$2 sep=$3 cert=$4 port=$5 tlsport=$6 extra=$7
	local layout="" mbox
	[ "$sep" = / ] && layout=":LAYOUT=fs"
	cat <<EOF
# private test instance '$name' written by tests/lib/harness.sh
instance_name = ms-$(basename "$T" | sed 's/^mailstage-test\.//')-$name
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
info_log_path = $dir/dovecot.log
debug_log_path = $dir/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = dovecot
default_login_user = dovenull
verbose_proctitle = yes
shutdown_clients = yes

ssl = yes
ssl_cert = <$T/tls/$cert.pem
ssl_key = <$T/tls/$cert.key
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
auth_master_user_separator = *
# failed logins answer at once (the default waits 2 s) ...
auth_failure_delay = 0
# ... and with no growing per-IP penalty (anvil-auth-penalty unreachable
# disables it: auth/auth-penalty.c)
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}

first_valid_uid = $(id -u vmail)
first_valid_gid = $(id -g vmail)
mail_uid = vmail
mail_gid = vmail
mail_location = maildir:$dir/mail/%u/Maildir$layout
# test data need no fsync; a killed server still keeps what it wrote
mail_fsync = never

namespace inbox {
  inbox = yes
  prefix =
  separator = $sep
EOF
	for mbox in Sent Drafts Trash Junk Archive; do
		printf '  mailbox %s {\n    special_use = \\%s\n    auto = no\n  }\n' \
			"$mbox" "$mbox"
	done
	cat <<EOF
}

passdb {
  driver = passwd-file
  master = yes
  args = scheme=PLAIN $dir/masters
  result_success = continue
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/users
}
userdb {
  driver = static
  args = uid=vmail gid=vmail home=$dir/mail/%u
}

protocol imap {
  mail_max_userip_connections = 50
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $tlsport
    ssl = yes
  }
}
$extra
EOF
}

# harness_port_open PORT: true if something listens on 127.0.0.1:PORT.
harness_port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

_dovecot_instance() {
	sed -n 's/^instance_name = //p' "$T/$1/dovecot.conf"
}

_dovecot_master_pid() {
	local pid
	pid=$(cat "$T/$1/run/master.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# _dovecot_launch NAME: start the configured instance, wait for its ports.
_dovecot_launch() {
	local name=$1 dir=$T/$1 port tlsport i
	port=$(_harness_var "$name" PORT)
	tlsport=$(_harness_var "$name" TLSPORT)
	if ! dovecot -c "$dir/dovecot.conf" </dev/null >>"$dir/start.log" 2>&1; then
		cat "$dir/start.log" "$dir/dovecot.log" >&2 2>/dev/null
		fail "dovecot_start $name: dovecot did not start"
	fi
	for i in $(seq 1 100); do
		if harness_port_open "$port" && harness_port_open "$tlsport"; then
			return 0
		fi
		sleep 0.1
	done
	cat "$dir/start.log" "$dir/dovecot.log" >&2 2>/dev/null
	fail "dovecot_start $name: ports $port/$tlsport not open after 10 s"
}

# dovecot_pids NAME: every live process of the instance (master first).
dovecot_pids() {
	local inst master
	inst=$(_dovecot_instance "$1") || return 0
	master=$(_dovecot_master_pid "$1") && echo "$master"
	ps -eo pid=,args= | awk -v p="dovecot-$inst/" -v m="${master:-x}" \
		'index($2, p) == 1 && $1 != m { print $1 }'
}

# dovecot_imap_pids NAME USER: pids of the imap processes serving USER
# (process titles read "dovecot-INSTANCE/imap [USER IP ...]").
dovecot_imap_pids() {
	local inst
	inst=$(_dovecot_instance "$1") || return 0
	ps -eo pid=,args= | awk -v t="dovecot-$inst/imap" -v u="$2" '
		$2 == t && ($3 == "[" u || $3 == "[" u "]") { print $1 }'
}

# dovecot_stop NAME: stop the instance: SIGTERM to all its processes at once
# (clients get disconnected; a SIGTERM to the master alone, or doveadm stop,
# takes 1-3 s); whatever is left after 10 s is killed.
dovecot_stop() {
	local name=$1 pids i
	pids=$(dovecot_pids "$name")
	[ -z "$pids" ] && return 0
	kill -TERM $pids 2>/dev/null || true
	# a test may have stopped some with SIGSTOP: let them see SIGTERM
	kill -CONT $pids 2>/dev/null || true
	for i in $(seq 1 100); do
		pids=$(dovecot_pids "$name")
		[ -z "$pids" ] && return 0
		sleep 0.1
	done
	harness_log "dovecot $name did not stop in 10 s; killing $pids"
	kill -KILL $pids 2>/dev/null || true
	return 0
}

# dovecot_kill NAME: SIGKILL every process of the instance (fault tests):
# the master first, so that it spawns nothing new, then the rest until none
# is left (at most 5 s).
dovecot_kill() {
	local master pids i
	# the whole process tree at once, as a crash or power cut would end it:
	# an imap process outliving its master keeps its index locks, and the
	# restarted server's processes would wait on them
	if master=$(_dovecot_master_pid "$1"); then
		pids="$master $(_harness_descendants "$master" | tr '\n' ' ')"
		kill -STOP $pids 2>/dev/null
		kill -KILL $pids 2>/dev/null
	fi
	for i in $(seq 1 50); do
		pids=$(dovecot_pids "$1")
		[ -z "$pids" ] && return 0
		kill -KILL $pids 2>/dev/null || true
		sleep 0.1
	done
	harness_log "dovecot_kill $1: still alive: $pids"
	return 1
}

# dovecot_restart NAME: start a stopped or killed instance again with the
# same configuration, ports and mail.  Dot-locks left by a killed instance
# go first: Dovecot writes no PID into dovecot-uidlist.lock (the lock file is
# the new uidlist), so it would wait for such a lock to be 2 minutes old
# before taking it over (MAILDIR_UIDLIST_LOCK_STALE_TIMEOUT), a wait that
# after a real crash the administrator sees too, and that a test skips.
dovecot_restart() {
	dovecot_stop "$1"
	find "$T/$1/mail" -name '*.lock' -type f -delete 2>/dev/null
	_dovecot_launch "$1"
}

# ------------------------------------------------------------ IMAP access

# pass_file NAME USER: the password file for USER (USER*admin -> admin's).
pass_file() {
	local u=$2
	[[ "$u" == *"*"* ]] && u=${u##*\*}
	printf '%s\n' "$T/$1/pass-$u"
}

# imaptool ARGS...: the independent client, any options.
imaptool() {
	"$HARNESS_PYTHON" "$IMAPTOOL" "$@"
}

# imap_tool NAME USER SUBCOMMAND ARGS...: imaptool against server NAME
# (plain IMAP on NAME_PORT).
imap_tool() {
	local name=$1 user=$2 port
	shift 2
	port=$(_harness_var "$name" PORT)
	[ -n "$port" ] || fail "imap_tool: no server $name"
	imaptool --port "$port" --user "$user" \
		--password-file "$(pass_file "$name" "$user")" "$@"
}

# imap_dump NAME USER FOLDER [--bodies DIR]: one line per message,
#   uid TAB flags(sorted, no \Recent) TAB internaldate-epoch TAB rfc822.size
#   TAB sha256 of BODY.PEEK[]
# Read-only (EXAMINE, BODY.PEEK).  --bodies DIR also saves DIR/UID.eml.
imap_dump() {
	local name=$1 user=$2 folder=$3
	shift 3
	imap_tool "$name" "$user" dump "$folder" "$@"
}

# imap_folders NAME USER: name TAB separator TAB special-use TAB attributes
imap_folders() {
	imap_tool "$1" "$2" folders
}

# seed_message NAME USER FOLDER FILE [FLAGS] [DATE]: append FILE byte-exact
# (FOLDER created if missing); DATE is epoch seconds or an IMAP date-time.
# Prints "uidvalidity TAB uid".
seed_message() {
	local name=$1 user=$2 folder=$3 file=$4 flags=${5:-} date=${6:-}
	imap_tool "$name" "$user" append --create "$folder" "$file" \
		--flags "$flags" --date "$date"
}

# seed_corpus NAME USER FOLDER [GLOB | LIST-FILE]: append corpus messages
# with flags, keywords and INTERNALDATEs chosen by a hash of each file's
# corpus-relative name (imaptool.py plan).  GLOB is relative to the corpus
# (e.g. 'cpython-email/*.eml'); LIST-FILE holds one path a line (relative to
# the corpus or absolute).  Default: every .eml.  The plan used
# (PATH TAB FLAGS TAB DATE TAB EPOCH, in UID order) is left in $SEED_PLAN.
seed_corpus() {
	local name=$1 user=$2 folder=$3 sel=${4:-} list n
	[ -d "$MAILSTAGE_CORPUS" ] || fail "corpus not found: $MAILSTAGE_CORPUS"
	n=$(find "$T/$name" -maxdepth 1 -name 'seed-*.plan' | wc -l)
	list=$T/$name/seed-$n.list
	SEED_PLAN=$T/$name/seed-$n.plan
	if [ -z "$sel" ]; then
		(cd "$MAILSTAGE_CORPUS" && find . -type f -name '*.eml' | sed 's|^\./||' |
			LC_ALL=C sort) >"$list"
	elif [ -f "$sel" ]; then
		grep -v '^[[:space:]]*$' "$sel" >"$list"
	else
		(cd "$MAILSTAGE_CORPUS" && compgen -G "$sel" | LC_ALL=C sort) >"$list" || true
	fi
	[ -s "$list" ] || fail "seed_corpus: nothing matches '$sel'"
	sed -i "s|^\([^/]\)|$MAILSTAGE_CORPUS/\1|" "$list"
	imaptool plan --root "$MAILSTAGE_CORPUS" --from "$list" >"$SEED_PLAN" ||
		fail "seed_corpus: plan failed"
	imap_tool "$name" "$user" append --create --quiet "$folder" \
		--batch "$SEED_PLAN" || fail "seed_corpus: APPEND to $name/$user/$folder failed"
	export SEED_PLAN
}

# ------------------------------------------------------------ watchdog

# harness_timeout SECONDS: if the test still runs after SECONDS, tear down
# its servers, mounts and processes and end it as failed.
harness_timeout() {
	local secs=$1
	_harness_stop_watchdog
	(
		trap - EXIT INT TERM
		set +e
		sleep "$secs" &
		echo $! >"$T/.reg/watchdog-sleep"
		wait $!
		echo "$secs" >"$T/.reg/timed-out"
		harness_log "TIMEOUT: test still running after ${secs}s; tearing down"
		_harness_release
		_harness_kill_test
	) &
	_HARNESS_WATCHDOG=$!
}

_harness_stop_watchdog() {
	[ -n "${_HARNESS_WATCHDOG:-}" ] || return 0
	kill "$_HARNESS_WATCHDOG" 2>/dev/null
	[ -f "$T/.reg/watchdog-sleep" ] && kill "$(cat "$T/.reg/watchdog-sleep")" 2>/dev/null
	wait "$_HARNESS_WATCHDOG" 2>/dev/null
	_HARNESS_WATCHDOG=
	return 0
}

# _harness_descendants PID: all processes below PID.
_harness_descendants() {
	ps -eo pid=,ppid= | awk -v root="$1" '
		{ parent[$1] = $2 }
		END {
			for (p in parent) {
				q = p; n = 0
				while ((q in parent) && q > 1 && n++ < 64) {
					q = parent[q]
					if (q == root) { print p; break }
				}
			}
		}'
}

# _harness_kill_test (watchdog side): end the test's processes.  When the
# test leads its own process group (meson starts each test so) the group
# goes; else the tree below the test's shell, then the shell.
_harness_kill_test() {
	local main pids
	main=$(cat "$T/.reg/main-pid")
	if [ "$(ps -o pgid= -p "$main" | tr -d ' ')" = "$main" ]; then
		kill -TERM -- "-$main" 2>/dev/null
		return
	fi
	pids=$(_harness_descendants "$main" | grep -vx "$BASHPID" || true)
	[ -n "$pids" ] && kill -TERM $pids 2>/dev/null
	kill -TERM "$main" 2>/dev/null
}

# ------------------------------------------------------------ teardown

# _harness_release: undo what the registries list.  Idempotent; callable
# from the EXIT trap and from the watchdog.
_harness_release() {
	local m p name pids
	[ -d "$T/.reg" ] || return 0
	# runs under the test's set -e too: nothing here may end the shell
	local -
	set +e
	while read -r m; do
		[ -n "$m" ] && _harness_unmount "$m"
	done <"$T/.reg/mounts"
	pids=$(grep -E '^[0-9]+$' "$T/.reg/pids" | while read -r p; do
		kill -0 "$p" 2>/dev/null && echo "$p"
	done)
	if [ -n "$pids" ]; then
		kill -TERM $pids 2>/dev/null
		kill -CONT $pids 2>/dev/null
		for p in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			kill -0 $pids 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL $pids 2>/dev/null
	fi
	while read -r name; do
		[ -n "$name" ] && dovecot_stop "$name"
	done <"$T/.reg/instances"
	return 0
}

# _harness_unmount DIR: detach a FUSE mount even when its daemon hangs or
# is stopped: never stat() the mount point (that would block), abort the
# FUSE connection when fusectl is there, then unmount lazily.
_harness_unmount() {
	local m=$1 dev
	dev=$(awk -v m="$m" '$5 == m { print $3 }' /proc/self/mountinfo | tail -1)
	[ -n "$dev" ] || return 0
	if [ -w "/sys/fs/fuse/connections/${dev#*:}/abort" ]; then
		echo 1 >"/sys/fs/fuse/connections/${dev#*:}/abort" 2>/dev/null
	fi
	timeout 10 fusermount3 -uz "$m" 2>/dev/null ||
		timeout 10 umount -l "$m" 2>/dev/null ||
		harness_log "could not unmount $m"
}

_harness_on_exit() {
	local rc=$? j
	set +e
	trap - EXIT INT TERM
	[ -n "${T:-}" ] && [ -d "$T" ] || exit "$rc"
	[ "$BASHPID" = "${_HARNESS_MAIN:-}" ] || exit "$rc"
	_harness_stop_watchdog
	if [ -f "$T/.reg/timed-out" ]; then
		echo "FAIL: timed out after $(cat "$T/.reg/timed-out")s" >&2
		rc=1
	fi
	_harness_release
	for j in $(jobs -p); do
		kill -TERM "$j" 2>/dev/null
	done
	if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
		_harness_show_logs
	fi
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		harness_log "kept $T"
	else
		timeout 60 rm -rf "$T" || harness_log "could not remove $T"
	fi
	exit "$rc"
}

_harness_show_logs() {
	local name
	while read -r name; do
		[ -f "$T/$name/dovecot.log" ] || continue
		echo "--- last lines of dovecot $name log ($T/$name/dovecot.log):" >&2
		tail -n 25 "$T/$name/dovecot.log" >&2
	done <"$T/.reg/instances"
}
