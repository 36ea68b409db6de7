# postfix.sh - a private Postfix for the status-mail tests (source after
# harness.sh): the real mail server an administrator points --smtp at.
#
# postfix_start NAME [--tls] [--sasl SOCKET]: a Postfix in $T/pf-NAME with
#   smtpd on 127.0.0.1:$PF_PORT; every recipient @example.net is delivered
#   to the Maildir $T/pf-NAME/mail/inbox/; its log is $T/pf-NAME/postfix.log.
#   --tls: STARTTLS offered on $PF_PORT and TLS from the first byte on
#   $PF_TLSPORT (smtps), with the harness's certificate for localhost and
#   127.0.0.1 (CA in $CA_FILE); Received: headers say "using TLS...".
#   --sasl SOCKET: only clients that log in may send (SMTP AUTH, checked by
#   the Dovecot auth socket SOCKET); with --tls, AUTH is offered only after
#   STARTTLS.  Without --sasl: any client on 127.0.0.1 may send.
#   Sets PF_PORT (and PF_TLSPORT with --tls) for the instance just started.
# postfix_wait_mail NAME N: until NAME's Maildir holds N messages (30 s).
# postfix_mails NAME: the delivered messages' paths, one a line.
# shellcheck shell=bash

postfix_start() {
	local name=$1 tls=0 sasl="" d=$T/pf-$1
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--tls) tls=1; shift ;;
		--sasl) sasl=$2; shift 2 ;;
		*) fail "postfix_start: unknown option $1" ;;
		esac
	done
	[ -x /usr/lib/postfix/sbin/master ] || skip "Postfix missing (package postfix)"
	PF_PORT=$(harness_free_port)
	PF_TLSPORT=""
	mkdir -p "$d/conf" "$d/spool" "$d/data" "$d/mail"
	cp /etc/postfix/master.cf /etc/postfix/dynamicmaps.cf "$d/conf/"
	# smtpd on our port, nothing chrooted (the spool is no chroot tree)
	sed -i -e "s/^smtp      inet .*/127.0.0.1:$PF_PORT inet n - n - - smtpd/" \
		-e 's/^\([a-z]*\)\( *\)\(unix\|inet\|fifo\)\( *\)\([-ny]\)\( *\)\([-ny]\)\( *\)y /\1\2\3\4\5\6\7\8n /' \
		"$d/conf/master.cf"
	_postfix_main_cf "$d" >"$d/conf/main.cf"
	if [ "$tls" = 1 ]; then
		harness_ca
		PF_TLSPORT=$(harness_free_port)
		printf '127.0.0.1:%s inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt\n' \
			"$PF_TLSPORT" >>"$d/conf/master.cf"
		_postfix_tls_cf >>"$d/conf/main.cf"
	fi
	[ -z "$sasl" ] || _postfix_sasl_cf "$sasl" >>"$d/conf/main.cf"
	chown vmail:vmail "$d/mail"
	# check creates the queue directories, set-permissions gives them their owners
	postfix -c "$d/conf" check >/dev/null 2>&1 || true
	postfix -c "$d/conf" set-permissions >/dev/null 2>&1 || true
	/usr/lib/postfix/sbin/master -c "$d/conf" -d >"$d/master.log" 2>&1 &
	harness_register_pid $!
	_postfix_wait_port "$PF_PORT" "$d" && { [ -z "$PF_TLSPORT" ] || _postfix_wait_port "$PF_TLSPORT" "$d"; } ||
		fail "postfix $name did not start"
}

_postfix_wait_port() {
	for _ in $(seq 1 100); do
		harness_port_open "$1" && return 0
		sleep 0.1
	done
	cat "$2/master.log" >&2
	return 1
}

# _postfix_main_cf DIR: the base configuration on stdout.
_postfix_main_cf() {
	cat <<EOC
compatibility_level = 3.6
queue_directory = $1/spool
data_directory = $1/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mailstage-test.invalid
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
relay_domains =
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = example.net
virtual_mailbox_base = $1/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:$(id -u vmail)
virtual_gid_maps = static:$(id -g vmail)
virtual_minimum_uid = 1
maillog_file_prefixes = $1
maillog_file = $1/postfix.log
smtpd_recipient_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
EOC
}

_postfix_tls_cf() {
	cat <<EOC
smtpd_tls_cert_file = $TLS_DIR/good.pem
smtpd_tls_key_file = $TLS_DIR/good.key
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1
EOC
}

# later lines win in main.cf: only logged-in clients may send
_postfix_sasl_cf() {
	cat <<EOC
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $1
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
EOC
}

postfix_mails() {
	find "$T/pf-$1/mail/inbox/new" -type f 2>/dev/null | LC_ALL=C sort
}

postfix_wait_mail() {
	for _ in $(seq 1 300); do
		[ "$(postfix_mails "$1" | wc -l)" -ge "$2" ] && return 0
		sleep 0.1
	done
	cat "$T/pf-$1/postfix.log" "$T/run.log" >&2 2>/dev/null || true
	fail "no status mail number $2 arrived at $1"
}
