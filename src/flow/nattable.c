/* The table: connections in a flat array with a free list, and a chained hash over the
 * tuples a packet of each can carry. A connection (orig os:osp → od:odp, reply rs:rsp →
 * rd:rdp) has two true ends, os:osp and rs:rsp. Before a destination translation its packets
 * carry the orig tuple or its reverse; after a source translation, the reply tuple or its
 * reverse. Each such form that differs from the true ends is a key. */
#include "nattable.h"

#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

enum form { F_ORIG, F_ORIG_BACK, F_REPLY, F_REPLY_BACK, F_FORMS };

struct conn {
    struct nat_conn c;
    uint64_t ends_ms; /* 0 while alive */
    uint8_t forms;    /* bit per enum form: keyed in the hash */
    bool used;
    uint32_t next_free;
    uint32_t end_prev, end_next; /* conn + 1 in the list of ending ones, 0 at its ends */
};

struct nattable {
    struct conn *conns;
    size_t max, n;
    uint32_t free_head; /* conn + 1, 0 for none */
    size_t high;        /* conns ever used */
    uint32_t *heads;    /* bucket -> node + 1; node = conn * F_FORMS + form */
    uint32_t *next;     /* node -> next node + 1 */
    size_t mask;
    struct hash_key seed;
    struct nattable_stats stats;
    /* Connections in their grace, oldest end first: the grace is one length and the clock
     * only goes forward, so appending keeps the order and expiry pops from the head. */
    uint32_t end_head, end_tail; /* conn + 1, 0 when none */
};

struct nattable *nattable_new(size_t max_conns, const struct hash_key *seed)
{
    struct nattable *t = xcalloc(1, sizeof(*t));

    t->max = max_conns ? max_conns : 1;
    t->conns = xcalloc(t->max, sizeof(*t->conns));
    t->mask = 15;
    while (t->mask + 1 < 2 * t->max)
        t->mask = t->mask * 2 + 1;
    t->heads = xcalloc(t->mask + 1, sizeof(*t->heads));
    t->next = xcalloc(t->max * F_FORMS, sizeof(*t->next));
    t->seed = *seed;
    return t;
}

void nattable_free(struct nattable *t)
{
    if (t == NULL)
        return;
    free(t->conns);
    free(t->heads);
    free(t->next);
    free(t);
}

/* The tuple packets of form f carry. */
static void key_of(const struct nat_conn *c, enum form f, struct nat_tuple *out)
{
    const struct nat_tuple *t = f == F_ORIG || f == F_ORIG_BACK ? &c->orig : &c->reply;

    out->proto = t->proto;
    if (f == F_ORIG || f == F_REPLY) {
        *out = *t;
        return;
    }
    out->src = t->dst;
    out->sport = t->dport;
    out->dst = t->src;
    out->dport = t->sport;
}

static bool tuple_equal(const struct nat_tuple *a, const struct nat_tuple *b)
{
    return a->proto == b->proto && a->sport == b->sport && a->dport == b->dport &&
           netaddr_equal(&a->src, &b->src) && netaddr_equal(&a->dst, &b->dst);
}

static uint64_t tuple_hash(const struct nattable *t, const struct nat_tuple *k)
{
    uint8_t b[2 * 17 + 5];

    b[0] = k->src.family;
    memcpy(b + 1, k->src.bytes, 16);
    b[17] = k->dst.family;
    memcpy(b + 18, k->dst.bytes, 16);
    b[34] = k->proto;
    b[35] = (uint8_t)(k->sport >> 8);
    b[36] = (uint8_t)k->sport;
    b[37] = (uint8_t)(k->dport >> 8);
    b[38] = (uint8_t)k->dport;
    return hash_bytes(&t->seed, b, sizeof(b));
}

/* The true ends in the direction of form f: from the original source to the translated
 * destination, or back. */
static void ends_of(const struct nat_conn *c, enum form f, struct nat_tuple *out)
{
    bool forward = f == F_ORIG || f == F_REPLY_BACK;

    out->proto = c->orig.proto;
    if (forward) {
        out->src = c->orig.src;
        out->sport = c->orig.sport;
        out->dst = c->reply.src;
        out->dport = c->reply.sport;
    } else {
        out->src = c->reply.src;
        out->sport = c->reply.sport;
        out->dst = c->orig.src;
        out->dport = c->orig.sport;
    }
}

static void link_node(struct nattable *t, uint32_t node, const struct nat_tuple *k)
{
    size_t b = (size_t)tuple_hash(t, k) & t->mask;

    t->next[node] = t->heads[b];
    t->heads[b] = node + 1;
}

static void unlink_node(struct nattable *t, uint32_t node, const struct nat_tuple *k)
{
    uint32_t *p = &t->heads[(size_t)tuple_hash(t, k) & t->mask];

    while (*p != 0 && *p != node + 1)
        p = &t->next[*p - 1];
    if (*p != 0)
        *p = t->next[node];
}

static struct conn *find(struct nattable *t, const struct nat_tuple *k, enum form *form)
{
    for (uint32_t n = t->heads[(size_t)tuple_hash(t, k) & t->mask]; n != 0; n = t->next[n - 1]) {
        struct conn *c = &t->conns[(n - 1) / F_FORMS];
        struct nat_tuple key;

        key_of(&c->c, (enum form)((n - 1) % F_FORMS), &key);
        if (tuple_equal(&key, k)) {
            *form = (enum form)((n - 1) % F_FORMS);
            return c;
        }
    }
    return NULL;
}

static void drop(struct nattable *t, struct conn *c)
{
    uint32_t i = (uint32_t)(c - t->conns);

    for (int f = 0; f < F_FORMS; f++) {
        struct nat_tuple k;

        if (!(c->forms & (1u << f)))
            continue;
        key_of(&c->c, (enum form)f, &k);
        unlink_node(t, i * F_FORMS + (uint32_t)f, &k);
    }
    if (c->ends_ms != 0) {
        if (c->end_prev != 0)
            t->conns[c->end_prev - 1].end_next = c->end_next;
        else
            t->end_head = c->end_next;
        if (c->end_next != 0)
            t->conns[c->end_next - 1].end_prev = c->end_prev;
        else
            t->end_tail = c->end_prev;
    }
    memset(c, 0, sizeof(*c));
    c->next_free = t->free_head;
    t->free_head = i + 1;
    t->n--;
}

bool nattable_add(struct nattable *t, const struct nat_conn *nc)
{
    bool dnat = !netaddr_equal(&nc->reply.src, &nc->orig.dst) || nc->reply.sport != nc->orig.dport;
    bool snat = !netaddr_equal(&nc->reply.dst, &nc->orig.src) || nc->reply.dport != nc->orig.sport;
    struct nat_tuple k;
    enum form f;
    struct conn *c;
    uint32_t i;

    if ((!dnat && !snat) || nc->orig.src.family == 0 || nc->reply.src.family == 0 ||
        (nc->orig.proto != 6 && nc->orig.proto != 17 && nc->orig.proto != 132))
        return false;
    /* The same connection again (a dump after events): the newest word. */
    for (int fm = F_ORIG; fm <= F_REPLY; fm += F_REPLY - F_ORIG) {
        key_of(nc, (enum form)fm, &k);
        if ((c = find(t, &k, &f)) != NULL && f == (enum form)fm)
            drop(t, c);
    }
    if (t->free_head != 0) {
        i = t->free_head - 1;
        t->free_head = t->conns[i].next_free;
    } else if (t->high < t->max) {
        i = (uint32_t)t->high++;
    } else {
        t->stats.full++;
        return false;
    }
    c = &t->conns[i];
    memset(c, 0, sizeof(*c));
    c->c = *nc;
    c->used = true;
    c->forms = (uint8_t)(dnat ? (1u << F_ORIG) | (1u << F_ORIG_BACK) : 0) |
               (uint8_t)(snat ? (1u << F_REPLY) | (1u << F_REPLY_BACK) : 0);
    for (int fm = 0; fm < F_FORMS; fm++) {
        if (!(c->forms & (1u << fm)))
            continue;
        key_of(nc, (enum form)fm, &k);
        link_node(t, i * F_FORMS + (uint32_t)fm, &k);
    }
    t->n++;
    t->stats.added++;
    return true;
}

void nattable_end(struct nattable *t, const struct nat_conn *nc, uint64_t now_ms)
{
    struct nat_tuple k;
    enum form f;
    struct conn *c;

    key_of(nc, F_ORIG, &k);
    if ((c = find(t, &k, &f)) == NULL) {
        key_of(nc, F_REPLY, &k);
        c = find(t, &k, &f);
    }
    if (c == NULL || c->ends_ms != 0)
        return;
    c->ends_ms = now_ms + NATTABLE_GRACE_MS;
    c->end_prev = t->end_tail;
    c->end_next = 0;
    if (t->end_tail != 0)
        t->conns[t->end_tail - 1].end_next = (uint32_t)(c - t->conns) + 1;
    else
        t->end_head = (uint32_t)(c - t->conns) + 1;
    t->end_tail = (uint32_t)(c - t->conns) + 1;
}

void nattable_expire(struct nattable *t, uint64_t now_ms)
{
    while (t->end_head != 0 && t->conns[t->end_head - 1].ends_ms <= now_ms) {
        drop(t, &t->conns[t->end_head - 1]);
        t->stats.removed++;
    }
}

void nattable_clear(struct nattable *t)
{
    for (size_t i = 0; i < t->high; i++)
        if (t->conns[i].used)
            drop(t, &t->conns[i]);
}

bool nattable_empty(const struct nattable *t)
{
    return t->n == 0;
}

bool nattable_translate(struct nattable *t, struct pktsummary *p)
{
    struct nat_tuple k = {.src = p->src, .dst = p->dst, .proto = p->proto};
    struct nat_tuple ends;
    struct conn *c;
    enum form f;

    if (t->n == 0 || !p->has_ports)
        return false;
    k.sport = p->sport;
    k.dport = p->dport;
    if ((c = find(t, &k, &f)) == NULL)
        return false;
    ends_of(&c->c, f, &ends);
    p->src = ends.src;
    p->sport = ends.sport;
    p->dst = ends.dst;
    p->dport = ends.dport;
    t->stats.translated++;
    return true;
}

void nattable_get_stats(const struct nattable *t, struct nattable_stats *out)
{
    *out = t->stats;
    out->size = t->n;
}
