/* What each module is configured with, from the effective options: the one place that knows
 * which option goes to which module. Pointers in the results point into cfg. */
#ifndef NSTATS_CONFIG_MODULES_H
#define NSTATS_CONFIG_MODULES_H

#include "config/config.h"
#include "export/exporter.h"
#include "export/influx.h"
#include "flow/meter.h"
#include "names/k8s.h"
#include "names/rdns.h"

void config_influx(const struct config *cfg, struct influx_config *out);
void config_rdns(const struct config *cfg, struct rdns_config *out);
void config_k8s(const struct config *cfg, struct k8s_config *out);
/* The link type is the capture's, set when it is open. */
void config_meter(const struct config *cfg, struct meter_config *out);
void config_exporter(const struct config *cfg, struct exporter_config *out);
/* The identity tags; empty strings for what is not set. */
void config_identity(const struct config *cfg, struct export_identity *out);

#endif
