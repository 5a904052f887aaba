/* --probe: one blocking GET with libcurl's easy interface, before any loop exists. */
#include "probe.h"

#include <curl/curl.h>
#include <stdio.h>

#define PROBE_TIMEOUT_MS 5000L

int probe_get(const char *url, char *errbuf, size_t errlen)
{
    long status = 0;
    CURLcode rc;
    CURL *easy;

    errbuf[0] = '\0';
    curl_global_init(CURL_GLOBAL_DEFAULT);
    easy = curl_easy_init();
    if (easy == NULL) {
        (void)snprintf(errbuf, errlen, "cannot start libcurl");
        curl_global_cleanup();
        return -1;
    }
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, PROBE_TIMEOUT_MS);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    rc = curl_easy_perform(easy);
    if (rc == CURLE_OK)
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    else
        (void)snprintf(errbuf, errlen, "probe %s: %s", url, curl_easy_strerror(rc));
    curl_easy_cleanup(easy);
    curl_global_cleanup();
    return status >= 200 && status < 300 ? 0 : -1;
}
