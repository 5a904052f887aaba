/* The live API's documents (docs/API.md) as plain values: parsed and checked, never trusted. */
#ifndef NSTATS_TOP_FLOWS_H
#define NSTATS_TOP_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Text fields are cut to fit; everything shown is escaped again when drawn. */
#define FLOWS_ADDR_MAX 64
#define FLOWS_NAME_MAX 256
#define FLOWS_SHORT_MAX 32
#define FLOWS_LABEL_MAX 128

/* One direction of a row: rates in bytes per second, total in bytes. */
struct flows_rates {
    double r2, r10, r40, peak;
    uint64_t total;
};

/* A row of /api/v1/flows; fields a grouping does not share are "" (0 for port). */
struct flows_row {
    char local[FLOWS_ADDR_MAX];
    char remote[FLOWS_ADDR_MAX];
    char proto[FLOWS_SHORT_MAX];
    unsigned port;
    char remote_name[FLOWS_NAME_MAX];
    char remote_source[FLOWS_SHORT_MAX];
    char remote_kind[FLOWS_SHORT_MAX];
    char remote_namespace[FLOWS_LABEL_MAX];
    char remote_workload[FLOWS_NAME_MAX];
    char net[FLOWS_LABEL_MAX];
    char class_[FLOWS_LABEL_MAX];
    uint64_t keys;
    struct flows_rates in, out;
    double cost_usd; /* of the totals, when the document has prices */
};

/* A /api/v1/flows document. rows is owned (flows_free). */
struct flows {
    uint64_t time_ms;
    char source[FLOWS_LABEL_MAX];
    char group[FLOWS_SHORT_MAX];
    char sort[FLOWS_SHORT_MAX];
    char order[FLOWS_SHORT_MAX];
    char filter[FLOWS_LABEL_MAX];
    struct flows_row *rows;
    size_t n_rows;
    struct flows_row others, all;
    bool has_cost; /* nstats has --price: rows carry cost_usd */
};

struct flows_dir_rates {
    double r2, r10, r40;
};

/* A /api/v1/summary document; has_* say whether the optional objects were there. */
struct flows_summary {
    uint64_t time_ms;
    char source[FLOWS_LABEL_MAX];
    char host[FLOWS_LABEL_MAX];
    uint64_t packets, bytes, drops, interface_drops;
    bool has_interface;
    uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets;
    uint64_t keys, keys_max;
    uint64_t folded_packets, folded_bytes;
    struct flows_dir_rates in, out;
    bool has_export;
    uint64_t queue_bytes, batches_dropped;
    double cpu_seconds;
    uint64_t rss_bytes;
};

/* Parses a flows document of len bytes into out (replacing what it held). Returns 0, or -1
 * with the reason in errbuf (out is then empty). Pure. */
int flows_parse(const char *json, size_t len, struct flows *out, char *errbuf, size_t errlen);
/* Parses a summary document. Returns 0, or -1 with the reason in errbuf. Pure. */
int flows_summary_parse(const char *json, size_t len, struct flows_summary *out, char *errbuf,
                        size_t errlen);
/* The "error" text of an error answer ({"error": "..."}) into out; "" when there is none. */
void flows_error_text(const char *json, size_t len, char *out, size_t outlen);
void flows_free(struct flows *f);

/* Whether r is one of the flow table's own rows: non-IP or malformed frames (remote "none")
 * or keys past --max-flows (remote "other"), or a port group of them. */
bool flows_row_is_table_row(const struct flows_row *r);
/* Drops the table's own rows that never counted a byte: they say nothing. */
void flows_drop_idle_table_rows(struct flows *f);

/* A string naming a row's identity (every key field), for keeping an order across
 * refreshes. Returns the length written (cut to fit len). */
size_t flows_row_id(const struct flows_row *r, char *out, size_t len);

#endif
