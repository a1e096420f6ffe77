/*
 * Tests for parse error names (ike_error).
 */
#include <string.h>

#include <criterion/criterion.h>

#include "ike_const.h"
#include "ike_error.h"

TestSuite(ike_error);

/* Returns 1 for assigned codes, 0 for the gaps in the numbering. */
static int
is_code(int code)
{
    return strcmp(ike_error_name(code), "unknown") != 0;
}

Test(ike_error, every_code_has_a_distinct_name)
{
    for (int a = 0; a < IKE_E_CODE_LIMIT; a++) {
        if (!is_code(a))
            continue;
        cr_expect_neq(strcmp(ike_error_describe(a), "unknown error"), 0,
            "code %d has a name but no description", a);
        for (int b = a + 1; b < IKE_E_CODE_LIMIT; b++) {
            if (is_code(b))
                cr_expect_neq(strcmp(ike_error_name(a), ike_error_name(b)),
                    0, "codes %d and %d share a name", a, b);
        }
    }
}

Test(ike_error, names_are_lower_snake_case)
{
    for (int code = 0; code < IKE_E_CODE_LIMIT; code++) {
        const char *name = ike_error_name(code);

        for (const char *c = name; *c != '\0'; c++)
            cr_expect((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
                *c == '_', "code %d name %s", code, name);
    }
}

Test(ike_error, required_cases_have_their_own_codes)
{
    int codes[] = {
        IKE_E_HDR_TRUNCATED, IKE_E_HDR_LEN_BEYOND_DATAGRAM,
        IKE_E_HDR_LEN_TOO_SHORT, IKE_E_PAYLOAD_LEN_TOO_SHORT,
        IKE_E_PAYLOAD_LEN_BEYOND_MESSAGE, IKE_E_CHAIN_OVERRUN,
        IKE_E_TRAILING_OCTETS, IKE_E_MAJOR_VERSION, IKE_E_SK_NOT_LAST,
        IKE_E_NONCE_TOO_SHORT, IKE_E_NONCE_TOO_LONG, IKE_E_KE_DATA_EMPTY,
        IKE_E_UNSUPPORTED_CRITICAL,
    };

    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        cr_expect(is_code(codes[i]), "code %d", codes[i]);
}

Test(ike_error, describes_payload_length_error)
{
    cr_expect_str_eq(ike_error_name(IKE_E_PAYLOAD_LEN_BEYOND_MESSAGE),
        "payload_len_beyond_message");
    cr_expect_str_eq(ike_error_describe(IKE_E_PAYLOAD_LEN_BEYOND_MESSAGE),
        "payload length exceeds message");
}

Test(ike_error, unknown_codes_get_placeholders)
{
    cr_expect_str_eq(ike_error_name(-1), "unknown");
    cr_expect_str_eq(ike_error_name(IKE_E_CODE_LIMIT), "unknown");
    cr_expect_str_eq(ike_error_name(5), "unknown");
    cr_expect_str_eq(ike_error_describe(1000), "unknown error");
}

Test(ike_error, maps_codes_to_responder_notifies)
{
    cr_expect_eq(ike_error_notify_type(IKE_E_MAJOR_VERSION),
        IKE_N_INVALID_MAJOR_VERSION);
    cr_expect_eq(ike_error_notify_type(IKE_E_UNSUPPORTED_CRITICAL),
        IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD);
    cr_expect_eq(ike_error_notify_type(IKE_E_NONCE_TOO_SHORT),
        IKE_N_INVALID_SYNTAX);
    cr_expect_eq(ike_error_notify_type(IKE_E_HDR_TRUNCATED), 0);
    cr_expect_eq(ike_error_notify_type(IKE_E_OK), 0);
}

Test(ike_error, set_tolerates_null)
{
    struct ike_parse_error err = { 0 };

    ike_error_set(NULL, IKE_E_SK_NOT_LAST, 28, 46);
    ike_error_set(&err, IKE_E_SK_NOT_LAST, 28, 46);
    cr_expect_eq(err.code, IKE_E_SK_NOT_LAST);
    cr_expect_eq(err.offset, 28);
    cr_expect_eq(err.payload, 46);
}
