/*
 * libFuzzer target for the report parser.  A report that parses is
 * encoded, parsed again and compared with the first.  The target aborts
 * if the encoder and the parser disagree on any accepted report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rt/cluster_report.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cluster_report a, b;
    char err[CLUSTER_ERR_SIZE];
    char *text;

    if (cluster_report_parse((const char *)data, size, &a, err,
        sizeof(err)) < 0) {
        /* Every rejection names what failed. */
        if (err[0] == '\0' || strlen(err) >= sizeof(err))
            abort();
        return 0;
    }
    if (cluster_report_encode(&a, &text, err, sizeof(err)) < 0)
        abort();
    if (cluster_report_parse(text, strlen(text), &b, err, sizeof(err)) < 0)
        abort();
    /* Both were zeroed before parsing, so padding compares equal. */
    if (memcmp(&a, &b, sizeof(a)) != 0)
        abort();
    free(text);
    return 0;
}
