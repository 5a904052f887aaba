/* What both ways of counting share: the meter and its feed over the open capture. */
#include "app.h"

#include "base/log.h"
#include "capture/decode.h"

/* Read-ahead of the capture thread: 256 bytes (four records) a key, enough that reading goes
 * on while an interval or a scrape is written out. */
#define READAHEAD_PER_KEY 256u
#define READAHEAD_MAX ((size_t)16 << 20)

void app_start_counting(struct app *app, struct meter_config *mc, const struct hash_key *seed,
                        const char *source, const struct listeners *listeners,
                        struct names *file_names)
{
    if (!decode_linktype_supported(capture_linktype(app->cap)))
        log_warnx("%s: link type %d is not decoded; every frame counts as malformed", source,
                  capture_linktype(app->cap));
    mc->linktype = capture_linktype(app->cap);
    app->meter = meter_new(mc, &app->loc, listeners, seed, exporter_interval, app->exporter);
    app->feed = feed_new(app->cap, app->meter, file_names);
    app->rates = rates_new(meter_capacity(app->meter));
    app->routes.rates = app->rates;
    exporter_set_capture(app->exporter, app->cap);
    app->routes.source = source;
    app->routes.capture = app->cap;
    app->routes.meter = app->meter;
}

size_t app_readahead(uint64_t max_flows)
{
    return max_flows < READAHEAD_MAX / READAHEAD_PER_KEY ? (size_t)max_flows * READAHEAD_PER_KEY
                                                         : READAHEAD_MAX;
}
