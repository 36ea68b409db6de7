/*
 * bodycache.c - LRU cache of whole message bodies; see bodycache.h.
 */
#include <pthread.h>
#include <stdlib.h>
#include "bodycache.h"

#define NBUCKETS 4096

struct bodycache {
	pthread_mutex_t mu;
	uint64_t max, bytes;
	struct body *head, *tail; /* head: most recently used */
	struct body *bucket[NBUCKETS];
};

struct bodycache *bodycache_new(uint64_t max_bytes)
{
	struct bodycache *bc = calloc(1, sizeof(*bc));

	if (!bc)
		return NULL;
	pthread_mutex_init(&bc->mu, NULL);
	bc->max = max_bytes;
	return bc;
}

struct body *body_new(char *data, size_t len, uint64_t ino, uint32_t uidvalidity)
{
	struct body *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->data = data;
	b->len = len;
	b->refs = 1;
	b->ino = ino;
	b->uidvalidity = uidvalidity;
	return b;
}

void body_put(struct body *b)
{
	if (!b || __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL))
		return;
	free((char *)b->data);
	free(b);
}

/* What an entry costs the bound: its bytes, or its own size for a note. */
static uint64_t cost(const struct body *b)
{
	return b->data ? b->len : sizeof(*b);
}

static size_t bucket_of(uint64_t ino)
{
	return (size_t)((ino * 0x9E3779B97F4A7C15ull) >> 52) % NBUCKETS;
}

static void lru_unlink(struct bodycache *bc, struct body *b)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		bc->head = b->next;
	if (b->next)
		b->next->prev = b->prev;
	else
		bc->tail = b->prev;
	b->prev = b->next = NULL;
}

static void lru_push(struct bodycache *bc, struct body *b)
{
	b->prev = NULL;
	b->next = bc->head;
	if (bc->head)
		bc->head->prev = b;
	bc->head = b;
	if (!bc->tail)
		bc->tail = b;
}

/* Unlink from table and list; returns the cache's reference to drop. */
static struct body *remove_entry(struct bodycache *bc, struct body *b)
{
	struct body **pp = &bc->bucket[bucket_of(b->ino)];

	while (*pp && *pp != b)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = b->hnext;
	b->hnext = NULL;
	lru_unlink(bc, b);
	bc->bytes -= cost(b);
	return b;
}

struct body *bodycache_get(struct bodycache *bc, uint64_t ino, uint32_t uidvalidity)
{
	struct body *b;

	pthread_mutex_lock(&bc->mu);
	for (b = bc->bucket[bucket_of(ino)]; b; b = b->hnext)
		if (b->ino == ino && b->uidvalidity == uidvalidity)
			break;
	if (b) {
		lru_unlink(bc, b);
		lru_push(bc, b);
		__atomic_add_fetch(&b->refs, 1, __ATOMIC_ACQ_REL);
	}
	pthread_mutex_unlock(&bc->mu);
	return b;
}

/* Make b the entry for its message, with the reference the caller gives.  Called locked. */
static void insert(struct bodycache *bc, struct body *b)
{
	size_t k = bucket_of(b->ino);

	b->hnext = bc->bucket[k];
	bc->bucket[k] = b;
	lru_push(bc, b);
	bc->bytes += cost(b);
}

void bodycache_add(struct bodycache *bc, struct body *b)
{
	struct body *old, *drop = NULL;
	size_t k = bucket_of(b->ino);

	if (cost(b) > bc->max)
		return;
	pthread_mutex_lock(&bc->mu);
	for (old = bc->bucket[k]; old; old = old->hnext)
		if (old->ino == b->ino && old->uidvalidity == b->uidvalidity)
			break;
	if (!old) {
		__atomic_add_fetch(&b->refs, 1, __ATOMIC_ACQ_REL);
		insert(bc, b);
	}
	while (bc->bytes > bc->max && bc->tail) {
		old = remove_entry(bc, bc->tail);
		old->hnext = drop; /* free after unlocking */
		drop = old;
	}
	pthread_mutex_unlock(&bc->mu);
	while (drop) {
		old = drop->hnext;
		body_put(drop);
		drop = old;
	}
}

/* 1 if b is the cache's entry for its message.  Called locked. */
static int holds(const struct bodycache *bc, const struct body *b)
{
	const struct body *e = bc->bucket[bucket_of(b->ino)];

	while (e && e != b)
		e = e->hnext;
	return e != NULL;
}

void bodycache_served(struct bodycache *bc, struct body *b, uint64_t off, size_t n)
{
	struct body *note, *old = NULL;

	if (!b->data)
		return;
	pthread_mutex_lock(&bc->mu);
	if (off <= b->served && off + n > b->served)
		b->served = (size_t)(off + n);
	if (b->served >= b->len && holds(bc, b) &&
	    (note = body_new(NULL, b->len, b->ino, b->uidvalidity))) {
		old = remove_entry(bc, b);
		insert(bc, note);
	}
	pthread_mutex_unlock(&bc->mu);
	body_put(old); /* the bytes go with the last reference */
}

uint64_t bodycache_bytes(struct bodycache *bc)
{
	uint64_t n;

	pthread_mutex_lock(&bc->mu);
	n = bc->bytes;
	pthread_mutex_unlock(&bc->mu);
	return n;
}

void bodycache_free(struct bodycache *bc)
{
	if (!bc)
		return;
	while (bc->tail)
		body_put(remove_entry(bc, bc->tail));
	pthread_mutex_destroy(&bc->mu);
	free(bc);
}
