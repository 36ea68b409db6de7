# cyrus.sh - private Cyrus IMAP 3.x servers for the interoperability tests.
#
# Source it after harness.sh.  A Cyrus instance here is what dovecot_start
# makes of Dovecot: a server of this test only, on free 127.0.0.1 ports,
# with its configuration, mail spool, password database and log under
# $T/NAME, stopped by the harness's teardown (its master is registered with
# harness_register_pid; master ends its imapd children on SIGTERM).
#
# Conventions that differ from the harness's Dovecot (docs/interop.md):
#   - the personal namespace has the prefix "INBOX." with separator '.'
#     (unixhierarchysep: no) or "INBOX/" with '/' (--sep /): alice's folder
#     Sent is "INBOX.Sent" on the wire; other users are "user.bob";
#   - the admin is the Cyrus admin "admin" (admins: admin); it acts as a
#     user through SASL PLAIN's authorization identity (authzid), not with
#     Dovecot's USER*admin;
#   - passwords are in a private sasldb ($T/NAME/sasldb, saslpasswd2 -f),
#     realm "localhost" (servername), files $T/NAME/pass-USER as on Dovecot,
#     so pass_file, imap_tool, imap_dump, seed_message and seed_corpus work
#     against a Cyrus NAME unchanged;
#   - Cyrus logs through syslog, which test machines often lack: NAME_LOG
#     holds only what master writes to stderr (-D).
#
# Functions:
#   cyrus_available                 true if the Debian packages are installed
#   cyrus_start NAME [--sep .|/] [--mechs 'NTLM ...']
#                                   start (SASL mechanisms offered: PLAIN
#                                   LOGIN unless --mechs); exports NAME_PORT NAME_TLSPORT
#                                   NAME_DIR NAME_CONF NAME_LOG NAME_SEP
#                                   NAME_PREFIX (e.g. "INBOX.")
#   cyrus_stop NAME                 stop it (the teardown does it too)
#   cyrus_create NAME USER FOLDER [SPECIAL-USE]   CREATE as USER, with
#                                   CREATE-SPECIAL-USE when given (\Sent ...)
#   cyrus_seed NAME USER FOLDER [GLOB]   seed_corpus for Cyrus: line ends
#                                   sent as CRLF, refused messages skipped
# shellcheck shell=bash

# master and ctl_cyrusdb come from cyrus-common; imapd from the package
# cyrus-imapd, which Conflicts with dovecot-imapd, so scripts/setup.sh
# unpacks it to /opt/cyrus-imapd instead of installing it.
CYRUS_BIN=${CYRUS_BIN:-/usr/lib/cyrus/bin}
if [ -z "${CYRUS_IMAPD:-}" ]; then
	CYRUS_IMAPD=/opt/cyrus-imapd/usr/lib/cyrus/bin/imapd
	[ -x "$CYRUS_IMAPD" ] || CYRUS_IMAPD=$CYRUS_BIN/imapd
fi

cyrus_available() {
	[ -x "$CYRUS_BIN/master" ] && [ -x "$CYRUS_IMAPD" ] &&
		command -v saslpasswd2 >/dev/null && getent passwd cyrus >/dev/null
}

# cyrus_start NAME [--sep .|/]
cyrus_start() {
	local name=$1 sep=. mechs="PLAIN LOGIN" up dir port tlsport
	shift || fail "cyrus_start: NAME missing"
	while [ $# -gt 0 ]; do
		case $1 in
		--sep) sep=$2; shift 2 ;;
		--mechs) mechs=$2; shift 2 ;;
		*) fail "cyrus_start: unknown option $1" ;;
		esac
	done
	case $sep in /|.) ;; *) fail "cyrus_start: --sep must be . or /" ;; esac
	[ "$(id -u)" -eq 0 ] || skip "needs root (Cyrus master drops to user cyrus)"
	cyrus_available || skip "Cyrus IMAP not available (run scripts/setup.sh: cyrus-common + unpacked imapd)"
	up=$(_harness_upper "$name") || exit 1
	dir=$T/$name
	[ -e "$dir" ] && fail "cyrus_start: server $name already exists"
	harness_ca
	mkdir -p "$dir/conf/socket" "$dir/conf/proc" "$dir/spool" "$dir/tls"
	cp "$TLS_DIR/good.pem" "$TLS_DIR/good.key" "$dir/tls/"
	port=$(harness_free_port) || fail "no free port"
	tlsport=$(harness_free_port) || fail "no free port"
	_cyrus_imapd_conf "$dir" "$sep" "$mechs" >"$dir/imapd.conf"
	_cyrus_master_conf "$dir" "$port" "$tlsport" >"$dir/cyrus.conf"
	_cyrus_credentials "$dir"
	chown -R cyrus:mail "$dir/conf" "$dir/spool" "$dir/tls" "$dir/sasldb"
	chmod 0600 "$dir/tls/good.key" "$dir/sasldb"
	chmod 0711 "$dir"
	printf -v "${up}_PORT" '%s' "$port"
	printf -v "${up}_TLSPORT" '%s' "$tlsport"
	printf -v "${up}_CONF" '%s' "$dir/imapd.conf"
	printf -v "${up}_DIR" '%s' "$dir"
	printf -v "${up}_LOG" '%s' "$dir/master.log"
	printf -v "${up}_SEP" '%s' "$sep"
	printf -v "${up}_PREFIX" '%s' "INBOX$sep"
	export "${up}_PORT" "${up}_TLSPORT" "${up}_CONF" "${up}_DIR" "${up}_LOG" \
		"${up}_SEP" "${up}_PREFIX"
	_cyrus_launch "$name"
	_cyrus_mailboxes "$name" "$sep"
}

# _cyrus_imapd_conf DIR SEP MECHS: imapd.conf on stdout.
_cyrus_imapd_conf() {
	local dir=$1 unixsep=no
	[ "$2" = / ] && unixsep=yes
	cat <<EOF
# private test instance written by tests/lib/cyrus.sh
configdirectory: $dir/conf
partition-default: $dir/spool
servername: localhost
admins: admin
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $dir/sasldb
sasl_mech_list: $3
allowplaintext: yes
unixhierarchysep: $unixsep
altnamespace: no
# keep 8-bit header bytes (the default, munge8bit: 1, stores them as X)
munge8bit: no
virtdomains: no
tls_server_cert: $dir/tls/good.pem
tls_server_key: $dir/tls/good.key
syslog_prefix: mailstage-test-$(basename "$dir")
EOF
}

# _cyrus_master_conf DIR PORT TLSPORT: cyrus.conf on stdout (imap with
# STARTTLS on PORT, imaps on TLSPORT, nothing else).
_cyrus_master_conf() {
	local conf=$1/imapd.conf
	cat <<EOF
START {
  recover cmd="ctl_cyrusdb -r -C $conf"
}
SERVICES {
  imap cmd="$CYRUS_IMAPD -C $conf" listen="127.0.0.1:$2" prefork=0
  imaps cmd="$CYRUS_IMAPD -s -C $conf" listen="127.0.0.1:$3" prefork=0
}
EVENTS {
}
DAEMON {
}
EOF
}

# _cyrus_credentials DIR: sasldb entries (realm localhost) for the users and
# admin, and the tests' password files (0600, root's).
_cyrus_credentials() {
	local dir=$1 u
	for u in $HARNESS_USERS admin; do
		(umask 077 && printf 'pw-%s-Secret1' "$u" >"$dir/pass-$u")
		saslpasswd2 -p -c -f "$dir/sasldb" -u localhost "$u" <"$dir/pass-$u" ||
			fail "cyrus_start: saslpasswd2 failed for $u"
	done
}

# _cyrus_launch NAME: master in the foreground of a background job (-D keeps
# its stderr in master.log), registered for the teardown; wait for ports.
_cyrus_launch() {
	local name=$1 dir=$T/$1 port tlsport pid i
	port=$(_harness_var "$name" PORT)
	tlsport=$(_harness_var "$name" TLSPORT)
	"$CYRUS_BIN/master" -C "$dir/imapd.conf" -M "$dir/cyrus.conf" \
		-p "$dir/master.pid" -D </dev/null >>"$dir/master.log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/master.job"
	harness_register_pid "$pid"
	for i in $(seq 1 100); do
		if harness_port_open "$port" && harness_port_open "$tlsport"; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$dir/master.log" >&2 2>/dev/null
	fail "cyrus_start $name: ports $port/$tlsport not open"
}

# _cyrus_mailboxes NAME SEP: the admin creates user.USER for every user.
_cyrus_mailboxes() {
	local name=$1 u boxes=()
	for u in $HARNESS_USERS; do
		boxes+=("user$2$u")
	done
	imap_tool "$name" admin create "${boxes[@]}" ||
		fail "cyrus_start $name: admin could not create the user mailboxes"
}

# cyrus_stop NAME: SIGTERM to master (it ends its children), wait up to 10 s.
cyrus_stop() {
	local pid i
	pid=$(cat "$T/$1/master.job" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	return 0
}

# cyrus_create NAME USER FOLDER [SPECIAL-USE]: CREATE FOLDER as USER (the
# full name, e.g. "INBOX.Sent"), with "(USE (\Sent))" when SPECIAL-USE given.
cyrus_create() {
	local name=$1 user=$2 folder=$3 use=${4:-}
	if [ -n "$use" ]; then
		imap_tool "$name" "$user" create --special-use "$use" "$folder"
	else
		imap_tool "$name" "$user" create "$folder"
	fi
}

# cyrus_seed NAME USER FOLDER [GLOB]: seed_corpus's flags and dates, but
# each message sent with CRLF line ends (Cyrus refuses bare LF) and the ones
# Cyrus still refuses (NUL bytes, broken headers) skipped and counted:
# SEED_PLAN lists exactly what the folder holds, SEED_REFUSED how many were
# left out, $SEED_PLAN.refused why.
cyrus_seed() {
	local name=$1 user=$2 folder=$3 sel=${4:-*/*.eml} n list plan
	[ -d "$MAILSTAGE_CORPUS" ] || fail "corpus not found: $MAILSTAGE_CORPUS"
	n=$(find "$T/$name" -maxdepth 1 -name 'cyseed-*.plan' | wc -l)
	list=$T/$name/cyseed-$n.list
	plan=$T/$name/cyseed-$n.all
	SEED_PLAN=$T/$name/cyseed-$n.plan
	(cd "$MAILSTAGE_CORPUS" && compgen -G "$sel" | LC_ALL=C sort |
		sed "s|^|$MAILSTAGE_CORPUS/|") >"$list" || true
	[ -s "$list" ] || fail "cyrus_seed: nothing matches '$sel'"
	imaptool plan --root "$MAILSTAGE_CORPUS" --from "$list" >"$plan" ||
		fail "cyrus_seed: plan failed"
	imap_tool "$name" "$user" append --create --quiet --crlf "$folder" \
		--batch "$plan" --accepted "$SEED_PLAN" 2>"$SEED_PLAN.refused" ||
		{ cat "$SEED_PLAN.refused" >&2; fail "cyrus_seed: APPEND to $name/$user/$folder failed"; }
	SEED_REFUSED=$(grep -c '^imaptool: refused' "$SEED_PLAN.refused" || true)
	export SEED_PLAN SEED_REFUSED
}
