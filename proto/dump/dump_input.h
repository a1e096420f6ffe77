/*
 * Input side of ikeshift-dump: reading one datagram as hex text or raw
 * octets, and reading a Wireshark IKEv2 decryption table line into keys.
 */
#ifndef IKESHIFT_DUMP_INPUT_H
#define IKESHIFT_DUMP_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "ike_keys.h"

#define DUMP_MAX_DATAGRAM   65535      /* largest UDP payload */
#define DUMP_MAX_INPUT      (1 << 20)  /* input file, hex text included */

/*
 * Reads all of `path` ("-" for standard input) into buf, which holds cap
 * octets.  Text made only of hex digits and white space is decoded as hex;
 * anything else is taken as raw octets.  Returns 0, or -1 with a message in
 * errbuf.
 */
int dump_read_datagram(const char *path, uint8_t *buf, size_t cap,
    size_t *len, char *errbuf, size_t errlen);

/* Keys for one IKE SA as the decryption table line gives them. */
struct dump_keys {
    uint8_t spi_i[8];
    uint8_t spi_r[8];
    struct ike_sa_keys sa;  /* suite, lengths, SK_e* and SK_a* only */
};

/*
 * Parses `line`: SPIi,SPIr,SK_ei,SK_er,"cipher",SK_ai,SK_ar,"integrity"
 * with hex fields and Wireshark's algorithm names.  Returns 0, or -1 with
 * a message naming the field in errbuf.
 */
int dump_parse_keys(const char *line, struct dump_keys *keys, char *errbuf,
    size_t errlen);

/* Reads the first line of `path` and parses it as dump_parse_keys(). */
int dump_read_keys(const char *path, struct dump_keys *keys, char *errbuf,
    size_t errlen);

#endif /* IKESHIFT_DUMP_INPUT_H */
