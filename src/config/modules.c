/* Options → module configurations. */
#include "modules.h"

#include <string.h>

void config_influx(const struct config *cfg, struct influx_config *out)
{
    memset(out, 0, sizeof(*out));
    out->url = cfg->influx_url;
    out->db = cfg->influx_db;
    out->rp = cfg->influx_rp;
    out->user = cfg->influx_user;
    out->password = cfg->influx_password;
    out->org = cfg->influx_org;
    out->bucket = cfg->influx_bucket;
    out->token = cfg->influx_token;
    out->ca_file = cfg->influx_ca_file;
    out->insecure = cfg->influx_insecure;
    out->gzip = cfg->influx_gzip;
    out->batch_bytes = (size_t)cfg->influx_batch_bytes;
    out->queue_bytes = (size_t)cfg->influx_queue_bytes;
    out->timeout_ms = cfg->influx_timeout_ms;
    out->retry_max_ms = cfg->influx_retry_max_ms;
    out->spool_dir = cfg->spool_dir;
}

void config_rdns(const struct config *cfg, struct rdns_config *out)
{
    rdns_config_init(out);
    out->server = cfg->dns_server;
    out->max_in_flight = (unsigned)cfg->rdns_max_in_flight;
    out->per_second = (unsigned)cfg->rdns_rate;
}

void config_k8s(const struct config *cfg, struct k8s_config *out)
{
    memset(out, 0, sizeof(*out));
    out->api_url = cfg->k8s_api;
    out->token_file = cfg->k8s_token_file;
    out->ca_file = cfg->k8s_ca_file;
    out->namespace_ = cfg->k8s_namespace;
    out->label_selector = cfg->k8s_label_selector;
    out->field_selector = cfg->k8s_field_selector;
}

void config_meter(const struct config *cfg, struct meter_config *out)
{
    memset(out, 0, sizeof(*out));
    out->interval_ms = cfg->interval_ms;
    out->idle_ms = cfg->flow_timeout_ms;
    out->max_flows = cfg->max_flows;
    out->ephemeral_min = (uint16_t)cfg->ephemeral_min;
    out->key_fields = cfg->key_fields;
}

void config_exporter(const struct config *cfg, struct exporter_config *out)
{
    memset(out, 0, sizeof(*out));
    out->schema = cfg->schema;
    /* stdout is the sink when there is no other, and on request besides. */
    out->use_stdout = (cfg->influx_url == NULL && cfg->listen == NULL &&
                       cfg->remote_write_url == NULL && cfg->otlp_url == NULL) ||
                      cfg->also_stdout;
    out->shutdown_timeout_ms = cfg->shutdown_timeout_ms;
}

void config_identity(const struct config *cfg, struct export_identity *out)
{
    out->host = cfg->host;
    out->interface = cfg->ifname ? cfg->ifname : "";
    out->namespace_ = cfg->namespace_ ? cfg->namespace_ : "";
    out->node = cfg->node ? cfg->node : "";
    out->workload = cfg->workload ? cfg->workload : "";
}
