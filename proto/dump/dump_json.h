/*
 * Rendering of a parsed IKE message as JSON for ikeshift-dump.
 */
#ifndef IKESHIFT_DUMP_JSON_H
#define IKESHIFT_DUMP_JSON_H

#include <jansson.h>

#include "ike_error.h"
#include "ike_msg.h"

/* Returns a new JSON object with the header fields of `hdr`. */
json_t *dump_json_header(const struct ike_header *hdr);

/*
 * Appends one JSON object per payload of `chain` to `array`, decoding each
 * body.  Returns 0, or -1 with *err naming the first invalid body; offsets
 * in *err are counted from the chain's buffer plus `base`.
 */
int dump_json_chain(json_t *array, const struct ike_chain *chain,
    const struct ike_header *hdr, size_t base, struct ike_parse_error *err);

#endif /* IKESHIFT_DUMP_JSON_H */
