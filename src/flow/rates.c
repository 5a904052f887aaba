/* Rates from a ring of 2 s buckets per key. The ring turns for every key at once (one global
 * position); a place whose key changed (another hash, or counts that went back) starts over. */
#include "rates.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

/* RATES_BUCKETS complete buckets and the one filling. */
#define RING (RATES_BUCKETS + 1)

struct place {
    uint32_t hash;
    uint32_t age;     /* complete buckets since the key was first seen (capped at RING) */
    uint64_t last_in; /* the key's bytes at the last tick */
    uint64_t last_out;
    uint32_t peak_in; /* the fullest complete bucket */
    uint32_t peak_out;
    uint32_t in[RING]; /* bytes per bucket; saturating */
    uint32_t out[RING];
    uint64_t turned; /* the ring turn this place was last brought up to */
};

struct rates {
    struct place *places;
    size_t capacity;
    uint64_t turn;       /* how many buckets the ring has started */
    uint64_t bucket_end; /* when the filling bucket is complete */
    bool started;
};

struct rates *rates_new(size_t capacity)
{
    struct rates *r = xcalloc(1, sizeof(*r));

    r->places = xcalloc(capacity ? capacity : 1, sizeof(*r->places));
    r->capacity = capacity;
    return r;
}

void rates_free(struct rates *r)
{
    if (r == NULL)
        return;
    free(r->places);
    free(r);
}

static uint32_t add_sat(uint32_t a, uint64_t b)
{
    uint64_t s = (uint64_t)a + b;

    return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

/* Brings a place's ring up to the current turn: the buckets completed since it was last
 * touched are closed (counted in its age and peak), the ones it slept through emptied. */
static void catch_up(struct place *p, uint64_t turn)
{
    uint64_t gap = turn - p->turned;

    for (uint64_t i = 1; i <= gap && i <= RING; i++) {
        uint32_t done = (uint32_t)((p->turned + i - 1) % RING);
        uint32_t next = (uint32_t)((p->turned + i) % RING);

        if (i == 1) {
            if (p->in[done] > p->peak_in)
                p->peak_in = p->in[done];
            if (p->out[done] > p->peak_out)
                p->peak_out = p->out[done];
        }
        p->in[next] = 0;
        p->out[next] = 0;
    }
    p->age = p->age + gap > RING ? RING : p->age + (uint32_t)gap;
    p->turned = turn;
}

struct tick_pass {
    struct rates *r;
};

static void on_key(void *arg, uint32_t index, uint32_t hash, const struct flow_key *key,
                   const struct flow_counters *so_far)
{
    struct tick_pass *t = arg;
    struct place *p;
    uint32_t cur;

    (void)key;
    if (index >= t->r->capacity)
        return;
    p = &t->r->places[index];
    if (p->hash != hash || so_far->bytes_in < p->last_in || so_far->bytes_out < p->last_out ||
        p->turned == 0) {
        /* A new key here: what it counted so far is its first bucket's. */
        memset(p, 0, sizeof(*p));
        p->hash = hash;
        p->turned = t->r->turn;
    }
    catch_up(p, t->r->turn);
    cur = (uint32_t)(t->r->turn % RING);
    p->in[cur] = add_sat(p->in[cur], so_far->bytes_in - p->last_in);
    p->out[cur] = add_sat(p->out[cur], so_far->bytes_out - p->last_out);
    p->last_in = so_far->bytes_in;
    p->last_out = so_far->bytes_out;
}

void rates_tick(struct rates *r, struct meter *m, uint64_t now_ms)
{
    struct tick_pass t = {r};

    if (!r->started) {
        r->started = true;
        r->turn = 1; /* turn 0 marks a place never used */
        r->bucket_end = now_ms + RATES_BUCKET_MS;
    }
    /* The counts so far belong to the filling bucket; then the ring turns if it is due. */
    meter_visit_indexed(m, on_key, &t);
    while (now_ms >= r->bucket_end) {
        r->turn++;
        r->bucket_end += RATES_BUCKET_MS;
        if (now_ms >= r->bucket_end + (uint64_t)RING * RATES_BUCKET_MS)
            r->bucket_end = now_ms + RATES_BUCKET_MS; /* asleep for long: start afresh */
    }
}

uint64_t rates_ms_until_tick(const struct rates *r, uint64_t now_ms)
{
    if (!r->started)
        return 0;
    if (now_ms >= r->bucket_end)
        return 0;
    return r->bucket_end - now_ms < RATES_TICK_MS ? r->bucket_end - now_ms : RATES_TICK_MS;
}

/* The mean rate over the last n complete buckets, or over the place's age if younger. */
static double window(const uint32_t *b, uint64_t turn, uint32_t age, uint32_t n)
{
    uint64_t sum = 0;
    uint32_t k = age < n ? age : n;

    for (uint32_t i = 1; i <= k; i++)
        sum += b[(turn - i) % RING];
    return k == 0 ? 0.0 : (double)sum * 1000.0 / ((double)k * RATES_BUCKET_MS);
}

static void values(const uint32_t *b, uint64_t turn, uint32_t age, uint32_t peak, uint64_t total,
                   struct rate_values *v)
{
    v->r2 = window(b, turn, age, 1);
    v->r10 = window(b, turn, age, 5);
    v->r40 = window(b, turn, age, RATES_BUCKETS);
    v->peak = (double)peak * 1000.0 / RATES_BUCKET_MS;
    if (v->r2 > v->peak)
        v->peak = v->r2;
    v->total = total;
}

struct visit_pass {
    struct rates *r;
    rates_visit_fn *fn;
    void *arg;
};

static void on_visit(void *arg, uint32_t index, uint32_t hash, const struct flow_key *key,
                     const struct flow_counters *so_far)
{
    struct visit_pass *v = arg;
    struct rate_values in, out;
    struct place *p = index < v->r->capacity ? &v->r->places[index] : NULL;

    memset(&in, 0, sizeof(in));
    memset(&out, 0, sizeof(out));
    in.total = so_far->bytes_in;
    out.total = so_far->bytes_out;
    if (p != NULL && p->hash == hash && p->turned != 0) {
        catch_up(p, v->r->turn);
        values(p->in, v->r->turn, p->age, p->peak_in, so_far->bytes_in, &in);
        values(p->out, v->r->turn, p->age, p->peak_out, so_far->bytes_out, &out);
    }
    v->fn(v->arg, key, &in, &out);
}

void rates_foreach(struct rates *r, struct meter *m, rates_visit_fn *fn, void *arg)
{
    struct visit_pass v = {r, fn, arg};

    meter_visit_indexed(m, on_visit, &v);
}

void rate_values_add(struct rate_values *a, const struct rate_values *b)
{
    a->r2 += b->r2;
    a->r10 += b->r10;
    a->r40 += b->r40;
    a->peak += b->peak;
    a->total += b->total;
}
