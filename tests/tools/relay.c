/*
 * relay.c - a TCP relay the tests and benches put between mailstage (or a
 * peer tool) and a server on 127.0.0.1: to break a connection at an exact
 * byte (tests/t-fault.sh), or to model a long link (bench/wan.sh).
 *
 *   relay --to PORT --port-file FILE [--listen PORT]
 *         [--delay-ms N] [--rate B]
 *         [--c2s N | --s2c N] [--stall] [--then continue|exit]
 *
 * It listens on 127.0.0.1:--listen (default a free port), writes the port
 * to --port-file once it listens (so a test waits for the file, not for a
 * port), and forwards every accepted connection to 127.0.0.1:--to.
 *
 * The link (both off by default, then bytes go through at once):
 *   --delay-ms N  each direction: every byte is written out N ms after it
 *                 was read, as propagation delay would (an RTT of 2 N).
 *                 Bytes are queued with a time stamp, never slept on, so
 *                 the delay does not bound throughput.  A new connection
 *                 reaches the server 3 N after the client's connect(),
 *                 so that the server's greeting arrives 4 N after it: the
 *                 TCP handshake's round trip plus the ACK's way, as on a
 *                 real link (bytes the client sends before that wait).
 *   --rate B      each direction: at most B bytes/s enter the link, summed
 *                 over all connections (one token bucket per direction;
 *                 suffix K, M or G: 10^3, 10^6, 10^9; 25M is 200 Mbit/s).
 *                 The sender's own socket buffers fill behind it, as they
 *                 would in front of a real bottleneck.
 * A side's EOF follows its bytes like any byte: the other side gets a half
 * close (shutdown) and may still answer; the pair ends when both closed.
 * What is not modelled: loss, TCP slow start and congestion windows
 * (the link is an ideal pipe, what a perfect TCP would get out of it).
 * Buffering is bounded: a side is not read while its queue holds
 * max(2 x rate x delay, 4 MiB) bytes (4 MiB without --rate), so a receiver
 * that stops reading stops its sender, as TCP's window would.
 *
 * Faults: the bytes going one way (--c2s: client to server, --s2c: server
 * to client) are counted summed over all connections.  When the count
 * reaches N, the connection that carries byte N is cut right after the
 * first N bytes went through (both sockets closed, so the peer sees EOF in
 * the middle of a literal), or with --stall held open with nothing
 * forwarded any more in either direction (the peer's deadline must fire).
 * Then, with --then continue (default), new connections are relayed
 * faithfully; with --then exit the relay exits (a stalled connection stays
 * held until its client closes it).  The fault fires once.  Without --c2s
 * or --s2c it only relays.  Faults and the link model combine.
 *
 * One thread, ppoll(), at most MAX_PAIRS connections, non-blocking sockets:
 * a peer that stops reading (a server waiting on a lock) holds up only its
 * own connection, as on a real network, never the others.  On SIGTERM or
 * SIGINT it writes one line to stderr (bytes each way, connections, its own
 * CPU time, the largest queue) and exits 0: a bench's measure of the
 * relay's cost.  Test tool, not installed.  Exit status 0; 2 on a usage or
 * set-up error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAIRS 64
#define CHUNK 262144
#define QUEUE_MIN (4u << 20)
#define NS 1000000000ull

enum dir { C2S, S2C };

enum after { GO_ON, CUT, STALL }; /* once the bytes before the fault are out */

/* Bytes read from one side at one moment, to be written to the other. */
struct chunk {
	struct chunk *next;
	uint64_t due; /* monotonic ns: not written before */
	size_t len, off;
	int eof; /* no data: the sender closed; pass that on when due */
	char data[];
};

struct queue {
	struct chunk *head, *tail;
	size_t bytes;
	int blocked; /* the last write would have blocked: wait for POLLOUT */
};

struct pair {
	int fd[2];         /* [0] client side, [1] server side; -1 when unused */
	struct queue q[2]; /* q[s]: read from side s, not yet written to !s */
	uint64_t open_at;  /* fd[1] not connected yet: connect then */
	int eof[2];        /* side s closed: read it no more */
	int eof_out[2];    /* ... and the other side was told (shutdown) */
	enum after after;
	int after_side;    /* whose queue holds the last bytes before the fault */
	int stalled;
};

/* One direction of the modelled link, shared by every connection. */
struct link {
	double tokens;       /* bytes that may enter the link now */
	uint64_t refilled;   /* when tokens were last brought up to date */
	unsigned long long bytes; /* carried in all */
};

struct relay {
	int lfd, to_port;
	enum dir dir;
	unsigned long long limit, count; /* limit 0: no fault */
	int stall, then_exit, fired;
	uint64_t delay;                  /* ns, each direction */
	unsigned long long rate;         /* bytes/s each direction; 0: no limit */
	double burst, quantum;           /* token bucket size; least read worth a wake-up */
	size_t queue_max;
	size_t queue_peak;
	unsigned long long pairs_seen;
	uint64_t started;
	struct link link[2];
	int next;                        /* pair polled first: the one after the last reader */
	struct pair p[MAX_PAIRS];
};

static volatile sig_atomic_t stop_asked;

static void on_stop(int sig)
{
	stop_asked = sig;
}

static void usage(void)
{
	fprintf(stderr, "usage: relay --to PORT --port-file FILE [--listen PORT]\n"
			"             [--delay-ms N] [--rate BYTES[K|M|G]]\n"
			"             [--c2s N | --s2c N] [--stall] [--then continue|exit]\n");
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static void queue_free(struct queue *q)
{
	while (q->head) {
		struct chunk *c = q->head;
		q->head = c->next;
		free(c);
	}
	q->tail = NULL;
	q->bytes = 0;
	q->blocked = 0;
}

static void queue_add(struct relay *r, struct queue *q, const char *data, size_t len,
		      uint64_t due)
{
	struct chunk *c = malloc(sizeof(*c) + len);

	if (!c) {
		fprintf(stderr, "relay: out of memory\n");
		exit(2);
	}
	*c = (struct chunk){ .due = due, .len = len, .eof = !data };
	if (len)
		memcpy(c->data, data, len);
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	q->bytes += len;
	if (q->bytes > r->queue_peak)
		r->queue_peak = q->bytes;
}

static void pair_close(struct pair *p)
{
	for (int i = 0; i < 2; i++) {
		if (p->fd[i] >= 0)
			close(p->fd[i]);
		p->fd[i] = -1;
		queue_free(&p->q[i]);
		p->eof[i] = p->eof_out[i] = 0;
	}
	p->open_at = 0;
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

/* The server side of a pair whose handshake time has come; -1: refused. */
static int pair_open(struct relay *r, struct pair *p)
{
	p->fd[1] = connect_to(r->to_port);
	p->open_at = 0;
	return p->fd[1] < 0 ? -1 : 0;
}

static void accept_one(struct relay *r)
{
	int c = accept(r->lfd, NULL, NULL);

	if (c < 0)
		return;
	if (nonblocking(c)) {
		close(c);
		return;
	}
	for (int i = 0; i < MAX_PAIRS; i++) {
		struct pair *p = &r->p[i];
		if (p->fd[0] >= 0)
			continue;
		p->fd[0] = c;
		r->pairs_seen++;
		if (r->delay) {
			p->open_at = now_ns() + 3 * r->delay;
			return;
		}
		if (!pair_open(r, p))
			return;
		pair_close(p); /* server down: the client sees a refusal */
		return;
	}
	close(c); /* too many */
}

/* Bring direction d's token bucket up to date. */
static void link_refill(struct relay *r, enum dir d, uint64_t now)
{
	struct link *l = &r->link[d];

	if (!r->rate)
		return;
	l->tokens += (double)r->rate * (double)(now - l->refilled) / NS;
	if (l->tokens > r->burst)
		l->tokens = r->burst;
	l->refilled = now;
}

/* How many bytes may be read for direction d now (0: wait for the link). */
static size_t link_room(const struct relay *r, enum dir d)
{
	double t = r->link[d].tokens;

	if (!r->rate)
		return CHUNK;
	if (t < r->quantum)
		return 0;
	return t >= CHUNK ? CHUNK : (size_t)t;
}

/* When direction d will have room again. */
static uint64_t link_ready_at(const struct relay *r, enum dir d, uint64_t now)
{
	double need = r->quantum - r->link[d].tokens;

	return now + (uint64_t)(need * NS / (double)r->rate) + 1;
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

/* Write what is due of side `from`'s queue to the other side, and its EOF
   as a half close; -1: the pair is over (broken, both sides closed, or the
   fault cut it). */
static int flush(struct pair *p, int from, uint64_t now)
{
	struct queue *q = &p->q[from];

	if (p->fd[!from] < 0 || q->blocked || p->stalled)
		return 0;
	while (q->head && q->head->due <= now) {
		struct chunk *c = q->head;
		if (c->eof) {
			/* the other side may still answer, as over TCP */
			p->eof_out[from] = 1;
			if (p->eof_out[!from] || shutdown(p->fd[!from], SHUT_WR))
				return -1;
		}
		while (c->off < c->len) {
			ssize_t w = write(p->fd[!from], c->data + c->off, c->len - c->off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				q->blocked = 1;
				return 0;
			}
			if (w <= 0)
				return -1;
			c->off += (size_t)w;
		}
		q->bytes -= c->len;
		q->head = c->next;
		if (!q->head)
			q->tail = NULL;
		free(c);
	}
	if (!q->head && p->after != GO_ON && from == p->after_side) {
		if (p->after == CUT)
			return -1;
		p->stalled = 1;
	}
	return 0;
}

/* Read what side `from` has into its queue; cut or stall on the fault. */
static void pair_read(struct relay *r, struct pair *p, int from, uint64_t now)
{
	static char buf[CHUNK];
	enum dir d = from == 0 ? C2S : S2C;
	size_t room = link_room(r, d), ok;
	ssize_t n;

	if (!room)
		return; /* another connection took the link's share this round */
	n = read(p->fd[from], buf, room);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n < 0) {
		pair_close(p);
		return;
	}
	if (n == 0) {
		/* the EOF travels behind the bytes before it */
		p->eof[from] = 1;
		queue_add(r, &p->q[from], NULL, 0, now + r->delay);
	} else {
		r->link[d].tokens -= (double)n;
		/* the others go first next round: none gets the link's share every time */
		r->next = (int)(p - r->p + 1) % MAX_PAIRS;
		r->link[d].bytes += (unsigned long long)n;
		ok = allowance(r, d, (size_t)n);
		if (d == r->dir && !r->fired)
			r->count += ok;
		if (ok)
			queue_add(r, &p->q[from], buf, ok, now + r->delay);
		if (ok < (size_t)n) {
			r->fired = 1;
			p->after = r->stall ? STALL : CUT;
			p->after_side = from;
			fprintf(stderr, "relay: fault after %llu bytes %s: %s\n", r->count,
				d == C2S ? "client->server" : "server->client",
				r->stall ? "stalled" : "cut");
		}
	}
	if (flush(p, from, now))
		pair_close(p);
}

static int live_pairs(const struct relay *r)
{
	int n = 0;

	for (int i = 0; i < MAX_PAIRS; i++)
		n += r->p[i].fd[0] >= 0;
	return n;
}

/* Open what is due, write what is due; the earliest moment a pair waits
   for lowers *wake. */
static void pair_timers(struct relay *r, struct pair *p, uint64_t now, uint64_t *wake)
{
	if (p->open_at && p->open_at <= now && pair_open(r, p)) {
		pair_close(p);
		return;
	}
	if (p->open_at && p->open_at < *wake)
		*wake = p->open_at;
	for (int s = 0; s < 2 && p->fd[0] >= 0; s++) {
		struct queue *q = &p->q[s];
		if (flush(p, s, now)) {
			pair_close(p);
			return;
		}
		if (q->head && !q->blocked && !p->stalled && p->fd[!s] >= 0 &&
		    q->head->due < *wake)
			*wake = q->head->due;
	}
}

/* What to poll side s of a pair for; may lower *wake to the link's time. */
static short pair_events(struct relay *r, struct pair *p, int s, uint64_t now, uint64_t *wake)
{
	short ev = 0;

	if (p->stalled) /* a stalled pair: only watch the client hang up */
		return s == 0 ? POLLIN : 0;
	if (p->fd[s] < 0)
		return 0;
	if (p->after == GO_ON && !p->eof[s] && p->q[s].bytes < r->queue_max) {
		if (link_room(r, s == 0 ? C2S : S2C))
			ev |= POLLIN;
		else if (link_ready_at(r, s == 0 ? C2S : S2C, now) < *wake)
			*wake = link_ready_at(r, s == 0 ? C2S : S2C, now);
	}
	if (p->q[!s].blocked)
		ev |= POLLOUT;
	return ev;
}

/* One poll()ed event on side `side` of pair p. */
static void pair_event(struct relay *r, struct pair *p, int side, short rev, uint64_t now)
{
	if (p->stalled) {
		char c;
		if (read(p->fd[0], &c, 1) <= 0)
			pair_close(p);
		return;
	}
	if ((rev & (POLLOUT | POLLERR | POLLHUP)) && p->q[!side].blocked) {
		p->q[!side].blocked = 0;
		if (flush(p, !side, now)) {
			pair_close(p);
			return;
		}
	}
	if ((rev & (POLLIN | POLLERR | POLLHUP)) && p->after == GO_ON && !p->eof[side])
		pair_read(r, p, side, now);
}

static void print_stats(const struct relay *r)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	fprintf(stderr, "relay: %llu bytes c2s, %llu bytes s2c, %llu connections, "
			"cpu %.3f s user %.3f s sys in %.3f s, largest queue %zu bytes\n",
		r->link[C2S].bytes, r->link[S2C].bytes, r->pairs_seen,
		(double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
		(double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
		(double)(now_ns() - r->started) / NS, r->queue_peak);
}

static void loop(struct relay *r, const sigset_t *waitmask)
{
	struct pollfd pf[1 + 2 * MAX_PAIRS];
	int who[1 + 2 * MAX_PAIRS];

	for (;;) {
		uint64_t now = now_ns(), wake = UINT64_MAX;
		int n = 0, listening = !(r->fired && r->then_exit);
		struct timespec ts, *tp = NULL;

		link_refill(r, C2S, now);
		link_refill(r, S2C, now);
		for (int i = 0; i < MAX_PAIRS; i++)
			if (r->p[i].fd[0] >= 0)
				pair_timers(r, &r->p[i], now, &wake);
		if (!listening && !live_pairs(r))
			return;
		if (listening) {
			pf[n] = (struct pollfd){ .fd = r->lfd, .events = POLLIN };
			who[n++] = -1;
		}
		for (int j = 0; j < MAX_PAIRS; j++) {
			int i = (r->next + j) % MAX_PAIRS;
			for (int s = 0; s < 2 && r->p[i].fd[0] >= 0; s++) {
				short ev = pair_events(r, &r->p[i], s, now, &wake);
				if (!ev)
					continue;
				pf[n] = (struct pollfd){ .fd = r->p[i].fd[s], .events = ev };
				who[n++] = i * 2 + s;
			}
		}
		if (wake != UINT64_MAX) {
			uint64_t left = wake > now ? wake - now : 0;
			ts = (struct timespec){ .tv_sec = (time_t)(left / NS),
						.tv_nsec = (long)(left % NS) };
			tp = &ts;
		}
		if (ppoll(pf, (nfds_t)n, tp, waitmask) < 0 && errno != EINTR) {
			perror("relay: poll");
			exit(2);
		}
		if (stop_asked)
			return;
		now = now_ns();
		link_refill(r, C2S, now);
		link_refill(r, S2C, now);
		for (int k = 0; k < n; k++) {
			if (!pf[k].revents)
				continue;
			if (who[k] < 0) {
				accept_one(r);
				continue;
			}
			struct pair *p = &r->p[who[k] / 2];
			int side = who[k] % 2;
			if (p->fd[0] < 0 || p->fd[side] != pf[k].fd)
				continue; /* closed earlier in this round */
			pair_event(r, p, side, pf[k].revents, now);
		}
		if (r->fired && r->then_exit && r->lfd >= 0) {
			close(r->lfd);
			r->lfd = -1;
		}
	}
}

/* A count, or with allow_zero also 0; K, M, G multiply (10^3, 10^6, 10^9). */
static unsigned long long number(const char *s, int allow_zero, int suffix)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10), m = 1;

	if (suffix && *end && !end[1]) {
		switch (*end) {
		case 'K': case 'k': m = 1000ull; break;
		case 'M': m = 1000000ull; break;
		case 'G': m = 1000000000ull; break;
		default: usage();
		}
		end++;
	}
	if (!*s || *s == '-' || *end || (!v && !allow_zero) || v > ~0ull / m)
		usage();
	return v * m;
}

/* Token bucket and queue bounds from --rate and --delay-ms. */
static void link_setup(struct relay *r)
{
	double bdp2 = 2.0 * (double)r->rate * (double)r->delay / NS;

	r->queue_max = bdp2 > QUEUE_MIN ? (size_t)bdp2 : QUEUE_MIN;
	if (!r->rate)
		return;
	/* a wake-up per ~2 ms of the link at most (the relay's CPU), never
	   less than a packet; a bucket of 20 ms, so that a late wake-up on a
	   busy machine does not lose the link's time */
	r->quantum = (double)r->rate / 250;
	if (r->quantum < 1460)
		r->quantum = 1460;
	if (r->quantum > CHUNK)
		r->quantum = CHUNK;
	r->burst = (double)r->rate / 50;
	if (r->burst < 2 * r->quantum)
		r->burst = 2 * r->quantum;
	for (int d = 0; d < 2; d++)
		r->link[d] = (struct link){ .tokens = r->burst, .refilled = r->started };
}

int main(int argc, char **argv)
{
	static struct relay r = { .lfd = -1 };
	const char *port_file = NULL;
	sigset_t block, waitmask;
	FILE *pf;
	int port = 0;

	for (int i = 0; i < MAX_PAIRS; i++) {
		r.p[i].fd[0] = r.p[i].fd[1] = -1;
		pair_close(&r.p[i]);
	}
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
			r.to_port = (int)number(v, 0, 0);
		else if (!strcmp(a, "--listen"))
			port = (int)number(v, 0, 0);
		else if (!strcmp(a, "--port-file"))
			port_file = v;
		else if (!strcmp(a, "--c2s") || !strcmp(a, "--s2c")) {
			r.dir = a[2] == 'c' ? C2S : S2C;
			r.limit = number(v, 0, 0);
		} else if (!strcmp(a, "--then") && (!strcmp(v, "exit") || !strcmp(v, "continue")))
			r.then_exit = !strcmp(v, "exit");
		else if (!strcmp(a, "--delay-ms") && number(v, 1, 0) <= 3600000)
			r.delay = number(v, 1, 0) * (NS / 1000);
		else if (!strcmp(a, "--rate"))
			r.rate = number(v, 0, 1);
		else
			usage();
	}
	if (!r.to_port || r.to_port > 65535 || port > 65535 || !port_file)
		usage();
	r.started = now_ns();
	link_setup(&r);
	signal(SIGPIPE, SIG_IGN);
	/* SIGTERM and SIGINT are taken only inside ppoll(): no wake-up lost */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	r.lfd = listen_on(&port);
	/* write then rename: a reader never sees half a number */
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
	if (!(pf = fopen(tmp, "w")) || fprintf(pf, "%d\n", port) < 0 || fclose(pf) ||
	    rename(tmp, port_file)) {
		perror("relay: port file");
		return 2;
	}
	loop(&r, &waitmask);
	print_stats(&r);
	return 0;
}
