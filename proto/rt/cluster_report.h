/*
 * JSON form of an agent's report (struct cluster_report in cluster.h).
 * Agents write it under the gateway's report key; the controller parses
 * whatever it finds there, so the parser checks every field and names the
 * first bad one in its error text.
 *
 *   {"version":1,"gateway_id":"gw1","site":"fra","state":"serving",
 *    "sent_at_ms":1767225600000,"interval_ms":1000,"ike_sas":120, ...}
 *
 * Keys that the parser does not know are ignored, so a newer agent may add
 * fields without a version change; a change that older readers would
 * misread raises "version".  docs/redis-keys.md lists every field.
 */
#ifndef IKESHIFT_RT_CLUSTER_REPORT_H
#define IKESHIFT_RT_CLUSTER_REPORT_H

#include <stddef.h>

#include "rt/cluster.h"

/* Largest report text that the parser accepts, in bytes. */
#define CLUSTER_REPORT_TEXT_MAX 16384

/* Range of interval_ms. */
#define CLUSTER_REPORT_INTERVAL_MIN_MS 100
#define CLUSTER_REPORT_INTERVAL_MAX_MS 600000

/*
 * Encodes `report` as compact JSON and stores a NUL-terminated string that
 * the caller frees with free() in *out.  The result is checked with
 * cluster_report_parse(), so nothing is encoded that a reader would drop.
 * Returns 0, -EINVAL with the reason in err[0..err_size), or -ENOMEM.
 */
int
cluster_report_encode(const struct cluster_report *report, char **out,
    char *err, size_t err_size);

/*
 * Parses text[0..len) (need not be NUL-terminated) into *out.  Returns 0,
 * -EMSGSIZE when len exceeds CLUSTER_REPORT_TEXT_MAX, -EINVAL for text
 * that is not a valid report, or -ENOMEM; on failure err contains a line
 * such as "report.ike_sas: invalid value -1, expected 0-4294967295" and
 * *out is zeroed.
 */
int
cluster_report_parse(const char *text, size_t len, struct cluster_report *out,
    char *err, size_t err_size);

#endif /* IKESHIFT_RT_CLUSTER_REPORT_H */
