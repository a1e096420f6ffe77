/*
 * Debug key log: one line per IKE SA with its SPIs and SK_e / SK_a keys,
 * in the format of Wireshark's IKEv2 decryption table (the
 * ikev2_decryption_table UAT):
 *
 *   SPIi,SPIr,SK_ei,SK_er,"cipher",SK_ai,SK_ar,"integrity"
 *
 * so that tshark can decrypt the agent's traffic and tests can compare the
 * keys with a peer's.  Anyone who can read the file can decrypt every IKE
 * message of the SAs listed in it, so it is off unless configured, for
 * tests only.  Nothing here writes to the normal log.
 */
#ifndef IKESHIFT_KEYLOG_H
#define IKESHIFT_KEYLOG_H

#include <stddef.h>
#include <stdint.h>

#include "ike_keys.h"

/* Room for the longest line: two AES-256-GCM keys with salt, two
 * HMAC-SHA2-512 keys and the longest names, plus the newline. */
#define KEYLOG_LINE_MAX 512

struct keylog;

/*
 * Writes the line for one IKE SA (with a trailing newline and a NUL) into
 * out.  The SPIs are 8 octets each.  Returns the line length without the
 * NUL, -ENOTSUP for a suite that Wireshark has no name for, or -ENOSPC
 * when cap is too small.
 */
int
keylog_format(char *out, size_t cap, const uint8_t *spi_i,
    const uint8_t *spi_r, const struct ike_sa_keys *keys);

/*
 * Opens (creating with mode 0600, appending) the key log at path.
 * Returns NULL with errno set on failure.  Free with keylog_close().
 */
struct keylog *
keylog_open(const char *path);

/* Closes the file and frees kl; NULL is allowed. */
void
keylog_close(struct keylog *kl);

/*
 * Appends the line of one IKE SA; `arg` is the struct keylog (the
 * signature is engine_keylog_fn).  Write errors are counted in the
 * keylog and otherwise ignored, so that a full disk does not stop IKE.
 */
void
keylog_write(void *arg, const uint8_t *spi_i, const uint8_t *spi_r,
    const struct ike_sa_keys *keys);

/* Returns the number of lines that could not be formatted or written. */
unsigned long
keylog_errors(const struct keylog *kl);

#endif /* IKESHIFT_KEYLOG_H */
