/* Fuzz target for the live API's query parser: any query string either parses into values in
 * range or is refused with a reason; a filter never holds a NUL or overruns. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char query[2048], err[256];
    struct api_query q;

    if (size >= sizeof(query))
        size = sizeof(query) - 1;
    memcpy(query, data, size);
    query[size] = '\0';
    err[0] = '\0';
    if (api_parse_query(query, &q, err, sizeof(err)) == 0) {
        if (q.limit < 1 || q.limit > API_LIMIT_MAX || q.group > API_GROUP_CLASS ||
            q.sort > API_SORT_NAME || memchr(q.filter, '\0', sizeof(q.filter)) == NULL)
            abort();
    } else if (err[0] == '\0') {
        abort(); /* a refusal says why */
    }
    return 0;
}
