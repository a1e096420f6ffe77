/*
 * libFuzzer target: the keys-line parser of ikeshift-dump
 * (Wireshark's IKEv2 decryption table format).  Every accepted line must
 * describe a cipher and integrity pair the SK code supports; the line
 * names no key exchange group, so the check supplies one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dump/dump_input.h"
#include "ike_const.h"
#include "ike_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dump_keys keys;
    char line[2048];
    char err[256];

    if (size >= sizeof(line))
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';
    if (dump_parse_keys(line, &keys, err, sizeof(err)) == 0) {
        struct ike_suite suite = keys.sa.suite;

        suite.dh = IKE_DH_CURVE25519;
        if (ike_keys_check_suite(&suite) != 0)
            abort();
    }
    return 0;
}
