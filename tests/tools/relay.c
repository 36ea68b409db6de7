/*
 * relay.c - a TCP relay the fault tests put between mailstage and a server,
 * to break the connection at an exact byte: it listens on 127.0.0.1:--listen
 * (default a free port), writes the port to --port-file once it listens
 * (so a test waits for the file, not for a port), forwards every accepted connection to
 * 127.0.0.1:--to, and counts the bytes going one way (--c2s: client to
 * server, --s2c: server to client) summed over all connections.  When the
 * count reaches N, the connection that carries byte N is cut right after
 * the first N bytes went through (both sockets closed, so the peer sees EOF
 * in the middle of a literal), or with --stall held open with nothing
 * forwarded any more in either direction (the peer's deadline must fire).
 * Then, with --then continue (default), new connections are relayed
 * faithfully; with --then exit the relay exits (a stalled connection stays
 * held until its client closes it).  The fault fires once.  Without --c2s
 * or --s2c it only relays.
 *
 * One thread, poll(), at most MAX_PAIRS connections, non-blocking sockets:
 * a peer that stops reading (a server waiting on a lock) holds up only its
 * own connection, as on a real network, never the others.  Test tool, not
 * installed.  Exit status 0; 2 on a usage or set-up error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_PAIRS 64
#define CHUNK 16384

enum dir { C2S, S2C };

enum after { GO_ON, CUT, STALL }; /* once the bytes before the fault are out */

struct pair {
	int fd[2];      /* [0] client side, [1] server side; -1 when unused */
	char buf[2][CHUNK]; /* buf[s]: read from side s, not yet written to !s */
	size_t len[2], off[2];
	enum after after;
	int after_side; /* whose buffer holds the last bytes before the fault */
	int stalled;
};

struct relay {
	int lfd, to_port;
	enum dir dir;
	unsigned long long limit, count; /* limit 0: no fault */
	int stall, then_exit, fired;
	struct pair p[MAX_PAIRS];
};

static void usage(void)
{
	fprintf(stderr, "usage: relay --to PORT --port-file FILE [--listen PORT]\n"
			"             [--c2s N | --s2c N] [--stall] [--then continue|exit]\n");
	exit(2);
}

static void pair_close(struct pair *p)
{
	for (int i = 0; i < 2; i++) {
		if (p->fd[i] >= 0)
			close(p->fd[i]);
		p->fd[i] = -1;
		p->len[i] = p->off[i] = 0;
	}
	p->after = GO_ON;
	p->stalled = 0;
}

static int nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) ? -1 : 0;
}

static int listen_on(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)*port) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		perror("relay: listen");
		exit(2);
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static int connect_to(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && (connect(fd, (struct sockaddr *)&a, sizeof(a)) || nonblocking(fd))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void accept_one(struct relay *r)
{
	int c = accept(r->lfd, NULL, NULL), s;

	if (c < 0)
		return;
	s = nonblocking(c) ? -1 : connect_to(r->to_port);
	for (int i = 0; s >= 0 && i < MAX_PAIRS; i++) {
		if (r->p[i].fd[0] >= 0)
			continue;
		r->p[i].fd[0] = c;
		r->p[i].fd[1] = s;
		return;
	}
	close(c); /* server down or too many: the client sees a refusal */
	if (s >= 0)
		close(s);
}

/* How many of n bytes going direction d may pass before the fault fires. */
static size_t allowance(struct relay *r, enum dir d, size_t n)
{
	if (!r->limit || r->fired || d != r->dir)
		return n;
	if (r->count + n < r->limit)
		return n;
	return (size_t)(r->limit - r->count);
}

/* Write what side `from` left in its buffer to the other side; -1: broken. */
static int drain(struct pair *p, int from)
{
	while (p->off[from] < p->len[from]) {
		ssize_t w = write(p->fd[!from], p->buf[from] + p->off[from],
				  p->len[from] - p->off[from]);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (w <= 0)
			return -1;
		p->off[from] += (size_t)w;
	}
	p->len[from] = p->off[from] = 0;
	if (p->after != GO_ON && from == p->after_side) {
		if (p->after == CUT)
			return -1;
		p->stalled = 1;
	}
	return 0;
}

/* Read what side `from` has (its buffer is empty); cut or stall on the fault. */
static void forward(struct relay *r, struct pair *p, int from)
{
	enum dir d = from == 0 ? C2S : S2C;
	ssize_t n = read(p->fd[from], p->buf[from], sizeof(p->buf[from]));
	size_t ok;

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		pair_close(p);
		return;
	}
	ok = allowance(r, d, (size_t)n);
	if (d == r->dir && !r->fired)
		r->count += ok;
	p->len[from] = ok;
	if (ok < (size_t)n) {
		r->fired = 1;
		p->after = r->stall ? STALL : CUT;
		p->after_side = from;
		fprintf(stderr, "relay: fault after %llu bytes %s: %s\n", r->count,
			d == C2S ? "client->server" : "server->client", r->stall ? "stalled" : "cut");
	}
	if (drain(p, from))
		pair_close(p);
}

static int live_pairs(const struct relay *r)
{
	int n = 0;

	for (int i = 0; i < MAX_PAIRS; i++)
		n += r->p[i].fd[0] >= 0;
	return n;
}

static void loop(struct relay *r)
{
	struct pollfd pf[1 + 2 * MAX_PAIRS];
	int who[1 + 2 * MAX_PAIRS];

	for (;;) {
		int n = 0, listening = !(r->fired && r->then_exit);
		if (!listening && !live_pairs(r))
			return;
		if (listening) {
			pf[n] = (struct pollfd){ .fd = r->lfd, .events = POLLIN };
			who[n++] = -1;
		}
		for (int i = 0; i < MAX_PAIRS; i++)
			for (int s = 0; s < 2 && r->p[i].fd[0] >= 0; s++) {
				struct pair *p = &r->p[i];
				short ev = 0;
				/* a stalled pair: only watch the client hang up */
				if (p->stalled && s == 1)
					continue;
				if (p->stalled || (!p->len[s] && p->after == GO_ON))
					ev |= POLLIN;
				if (!p->stalled && p->len[!s])
					ev |= POLLOUT;
				if (!ev)
					continue;
				pf[n] = (struct pollfd){ .fd = p->fd[s], .events = ev };
				who[n++] = i * 2 + s;
			}
		if (poll(pf, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("relay: poll");
			exit(2);
		}
		for (int k = 0; k < n; k++) {
			if (!pf[k].revents)
				continue;
			if (who[k] < 0) {
				accept_one(r);
				continue;
			}
			struct pair *p = &r->p[who[k] / 2];
			if (p->fd[0] < 0 || p->fd[who[k] % 2] != pf[k].fd)
				continue; /* closed earlier in this round */
			int side = who[k] % 2;
			if (p->stalled) {
				char c;
				if (read(p->fd[0], &c, 1) <= 0)
					pair_close(p);
				continue;
			}
			if ((pf[k].revents & (POLLOUT | POLLERR | POLLHUP)) && p->len[!side] &&
			    drain(p, !side)) {
				pair_close(p);
				continue;
			}
			if ((pf[k].revents & (POLLIN | POLLERR | POLLHUP)) && !p->len[side] &&
			    p->after == GO_ON)
				forward(r, p, side);
		}
		if (r->fired && r->then_exit && r->lfd >= 0) {
			close(r->lfd);
			r->lfd = -1;
		}
	}
}

static unsigned long long number(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (!*s || *end || !v)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	struct relay r = { .lfd = -1 };
	const char *port_file = NULL;
	FILE *pf;
	int port = 0;

	for (int i = 0; i < MAX_PAIRS; i++)
		pair_close(&r.p[i]);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--stall")) {
			r.stall = 1;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--to"))
			r.to_port = (int)number(v);
		else if (!strcmp(a, "--listen"))
			port = (int)number(v);
		else if (!strcmp(a, "--port-file"))
			port_file = v;
		else if (!strcmp(a, "--c2s") || !strcmp(a, "--s2c")) {
			r.dir = a[2] == 'c' ? C2S : S2C;
			r.limit = number(v);
		} else if (!strcmp(a, "--then") && (!strcmp(v, "exit") || !strcmp(v, "continue")))
			r.then_exit = !strcmp(v, "exit");
		else
			usage();
	}
	if (!r.to_port || r.to_port > 65535 || port > 65535 || !port_file)
		usage();
	signal(SIGPIPE, SIG_IGN);
	r.lfd = listen_on(&port);
	/* write then rename: a reader never sees half a number */
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
	if (!(pf = fopen(tmp, "w")) || fprintf(pf, "%d\n", port) < 0 || fclose(pf) ||
	    rename(tmp, port_file)) {
		perror("relay: port file");
		return 2;
	}
	loop(&r);
	return 0;
}
