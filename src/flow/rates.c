/* Rates from a ring of 2 s buckets per key. The ring turns for every key at once (one global
 * position); a place whose key changed (another hash, or counts that went back) starts over. */
#include "rates.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

/* A key's place: 120 bytes. Complete buckets are kept as 16-bit floats (an 11-bit mantissa
 * and a 5-bit exponent: exact below 2048 bytes, within 1/2048 above, up to 4.4 TB a bucket);
 * the filling bucket is counted exactly and rounded once, when it completes. */
struct place {
    uint32_t hash;
    uint32_t turned;  /* the ring turn this place was last brought up to; 0: never used */
    uint64_t last_in; /* the key's bytes at the last tick */
    uint64_t last_out;
    uint32_t fill_in; /* the filling bucket; saturating */
    uint32_t fill_out;
    uint16_t peak_in; /* the fullest complete bucket, encoded */
    uint16_t peak_out;
    uint8_t age;                /* complete buckets since the key was first seen (capped) */
    uint16_t in[RATES_BUCKETS]; /* complete buckets, encoded */
    uint16_t out[RATES_BUCKETS];
};
_Static_assert(sizeof(struct place) <= 120, "a place stays small: it is paid for every key");

struct rates {
    struct place *places;
    size_t capacity;
    uint32_t turn;       /* how many buckets the ring has started (2 s each: 272 years) */
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

#define MANTISSA_BITS 11
#define MANTISSA_MAX ((1u << MANTISSA_BITS) - 1)
#define EXPONENT_MAX 31u

/* v as exponent:mantissa, rounded to nearest; saturates at MANTISSA_MAX << EXPONENT_MAX. */
uint16_t rates_encode(uint64_t v)
{
    unsigned e = 0;
    uint64_t m = v;

    if (v >= (uint64_t)MANTISSA_MAX << EXPONENT_MAX)
        return (uint16_t)(EXPONENT_MAX << MANTISSA_BITS | MANTISSA_MAX);
    while (m > MANTISSA_MAX) {
        e++;
        m = (v + ((uint64_t)1 << (e - 1))) >> e;
    }
    return (uint16_t)(e << MANTISSA_BITS | m);
}

uint64_t rates_decode(uint16_t code)
{
    return (uint64_t)(code & MANTISSA_MAX) << (code >> MANTISSA_BITS);
}

static uint32_t add_sat(uint32_t a, uint64_t b)
{
    uint64_t s = (uint64_t)a + b;

    return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

/* Brings a place's ring up to the current turn: the filling bucket completes (counted in its
 * age and peak), the buckets it slept through are empty. */
static void catch_up(struct place *p, uint32_t turn)
{
    uint32_t gap = turn - p->turned;
    uint16_t in, out;

    if (gap == 0)
        return;
    in = rates_encode(p->fill_in);
    out = rates_encode(p->fill_out);
    if (rates_decode(in) > rates_decode(p->peak_in))
        p->peak_in = in;
    if (rates_decode(out) > rates_decode(p->peak_out))
        p->peak_out = out;
    /* Turns turned .. turn-1 completed: the first with the filling bucket, the rest empty. */
    for (uint32_t i = 1; i < gap && i <= RATES_BUCKETS; i++) {
        p->in[(turn - i) % RATES_BUCKETS] = 0;
        p->out[(turn - i) % RATES_BUCKETS] = 0;
    }
    if (gap <= RATES_BUCKETS) {
        p->in[p->turned % RATES_BUCKETS] = in;
        p->out[p->turned % RATES_BUCKETS] = out;
    }
    p->fill_in = 0;
    p->fill_out = 0;
    p->age = p->age + gap > RATES_BUCKETS ? RATES_BUCKETS : (uint8_t)(p->age + gap);
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
    p->fill_in = add_sat(p->fill_in, so_far->bytes_in - p->last_in);
    p->fill_out = add_sat(p->fill_out, so_far->bytes_out - p->last_out);
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
        if (now_ms >= r->bucket_end + (uint64_t)(RATES_BUCKETS + 1) * RATES_BUCKET_MS)
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
static double window(const uint16_t *b, uint32_t turn, uint32_t age, uint32_t n)
{
    uint64_t sum = 0;
    uint32_t k = age < n ? age : n;

    for (uint32_t i = 1; i <= k; i++)
        sum += rates_decode(b[(turn - i) % RATES_BUCKETS]);
    return k == 0 ? 0.0 : (double)sum * 1000.0 / ((double)k * RATES_BUCKET_MS);
}

static void values(const uint16_t *b, uint32_t turn, uint32_t age, uint16_t peak, uint64_t total,
                   struct rate_values *v)
{
    v->r2 = window(b, turn, age, 1);
    v->r10 = window(b, turn, age, 5);
    v->r40 = window(b, turn, age, RATES_BUCKETS);
    v->peak = (double)rates_decode(peak) * 1000.0 / RATES_BUCKET_MS;
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
