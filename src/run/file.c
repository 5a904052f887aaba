/* Counting a capture file or pipe: its header awaited, its local host guessed when no
 * --local-net says, then read in batches with the loop turning between them. */
#include "app.h"
#include "base/log.h"
#include "flow/localguess.h"

/* Packets of a capture file read to guess its local host when --local-net is not given, and
 * how long a pipe may take to send them before the guess is made from fewer. */
#define GUESS_PACKETS 100000
#define GUESS_WAIT_MS 2000
/* Files get at least enough read-ahead for the guess. */
#define FILE_READAHEAD_MIN ((size_t)8 << 20)

int app_run_file(struct app *app, struct meter_config *mc, const struct hash_key *seed)
{
    char err[512];
    int more = 1;

    app->cap = capture_open_file(app->cfg.read_file, err, sizeof(err));
    if (app->cap == NULL) {
        log_warnx("%s", err);
        return 1;
    }
    if (capture_await_header(app->cap, app->loop, &app->stopping) == -1) {
        log_info("stopped before %s sent a capture file header", app->cfg.read_file);
        return 0;
    }
    if (capture_read_header(app->cap, err, sizeof(err)) == -1) {
        /* A stop signal ends a header that stopped halfway: it is taken here. */
        loop_run_once(app->loop, 0);
        if (app->stopping) {
            log_info("stopped before %s sent a whole capture file header", app->cfg.read_file);
            return 0;
        }
        log_warnx("%s", err);
        return 1;
    }
    capture_set_readahead(app->cap, app_readahead(mc->max_flows) > FILE_READAHEAD_MIN
                                        ? app_readahead(mc->max_flows)
                                        : FILE_READAHEAD_MIN);
    if (app->cfg.dns_snoop)
        capture_keep_dns(app->cap);
    if (app->cfg.n_local_nets == 0)
        localguess_apply(app->cap, app->loop, &app->stopping, GUESS_PACKETS, GUESS_WAIT_MS,
                         &app->loc);
    app_start_counting(app, mc, seed, app->cfg.read_file, NULL,
                       app->cfg.dns_snoop ? app->names : NULL);
    while (more == 1 && !app->stopping && !exporter_broken(app->exporter)) {
        more = feed_file_batch(app->feed, err, sizeof(err));
        if (more == -1)
            log_warnx("%s (everything before it was counted)", err);
        else if (more == 1)
            /* Signals, HTTP and InfluxDB progress between batches. */
            exporter_pace(app->exporter, &app->stopping);
    }
    /* Stopped by a signal: what was already read is counted too. */
    if (app->stopping && !exporter_broken(app->exporter))
        feed_file_rest(app->feed);
    meter_finish(app->meter, meter_last_packet_ms(app->meter), false);
    return more == -1 ? 1 : 0;
}
