/*
 * Tests for the bounded reader and sticky-error writer (ike_buf).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ike_buf.h"

TestSuite(ike_buf);

Test(ike_buf, reader_decodes_network_order)
{
    static const uint8_t data[] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde };
    struct ike_reader r;
    uint8_t v8;
    uint16_t v16;
    uint32_t v32;

    ike_reader_init(&r, data, sizeof(data));
    cr_assert_eq(ike_reader_u8(&r, &v8), 0);
    cr_expect_eq(v8, 0x12);
    cr_assert_eq(ike_reader_u16(&r, &v16), 0);
    cr_expect_eq(v16, 0x3456);
    cr_assert_eq(ike_reader_u32(&r, &v32), 0);
    cr_expect_eq(v32, 0x789abcde);
    cr_expect_eq(ike_reader_left(&r), 0);
}

Test(ike_buf, reader_refuses_to_pass_the_end)
{
    static const uint8_t data[3] = { 1, 2, 3 };
    struct ike_reader r;
    uint32_t v32;
    uint16_t v16;
    const uint8_t *p;

    ike_reader_init(&r, data, sizeof(data));
    cr_expect_eq(ike_reader_u32(&r, &v32), -EBADMSG);
    cr_expect_eq(ike_reader_left(&r), 3, "a failed read must not advance");
    cr_expect_eq(ike_reader_bytes(&r, 4, &p), -EBADMSG);
    cr_assert_eq(ike_reader_bytes(&r, 2, &p), 0);
    cr_expect_eq(p, data);
    cr_expect_eq(ike_reader_u16(&r, &v16), -EBADMSG);
    cr_expect_eq(ike_reader_left(&r), 1);
}

Test(ike_buf, writer_encodes_network_order)
{
    uint8_t buf[16];
    struct ike_writer w;
    static const uint8_t want[] = {
        0xab, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 'x', 'y' };

    ike_writer_init(&w, buf, sizeof(buf));
    ike_writer_u8(&w, 0xab);
    ike_writer_u16(&w, 0x1234);
    ike_writer_u32(&w, 0xdeadbeef);
    ike_writer_zero(&w, 2);
    ike_writer_bytes(&w, "xy", 2);
    cr_assert_eq(ike_writer_error(&w), 0);
    cr_assert_eq(ike_writer_len(&w), sizeof(want));
    cr_expect_eq(memcmp(buf, want, sizeof(want)), 0);
}

Test(ike_buf, writer_overflow_is_sticky)
{
    uint8_t buf[4] = { 0 };
    struct ike_writer w;

    ike_writer_init(&w, buf, 3);
    ike_writer_u16(&w, 0x0102);
    ike_writer_u16(&w, 0x0304);
    cr_expect_eq(ike_writer_error(&w), -ENOBUFS);
    cr_expect_eq(ike_writer_len(&w), 2, "a failed write must not count");
    ike_writer_u8(&w, 5);
    cr_expect_eq(ike_writer_len(&w), 2, "writes after a failure are no-ops");
    cr_expect_eq(buf[2], 0);
    cr_expect_null(ike_writer_reserve(&w, 0));
}

Test(ike_buf, writer_keeps_first_failure)
{
    uint8_t buf[4];
    struct ike_writer w;

    ike_writer_init(&w, buf, sizeof(buf));
    ike_writer_fail(&w, -EINVAL);
    ike_writer_fail(&w, -EMSGSIZE);
    ike_writer_u8(&w, 1);
    cr_expect_eq(ike_writer_error(&w), -EINVAL);
    cr_expect_eq(ike_writer_len(&w), 0);
}

Test(ike_buf, writer_patches_only_written_octets)
{
    uint8_t buf[8];
    struct ike_writer w;

    ike_writer_init(&w, buf, sizeof(buf));
    ike_writer_zero(&w, 4);
    ike_writer_patch16(&w, 2, 0xbeef);
    cr_expect_eq(ike_load16(buf + 2), 0xbeef);
    ike_writer_patch32(&w, 0, 0x01020304);
    cr_expect_eq(ike_load32(buf), 0x01020304);
    ike_writer_patch8(&w, 3, 9);
    cr_expect_eq(buf[3], 9);
    cr_expect_eq(ike_writer_error(&w), 0);
    ike_writer_patch16(&w, 3, 1);
    cr_expect_eq(ike_writer_error(&w), -EINVAL);
}

Test(ike_buf, writer_reserve_lends_room)
{
    uint8_t buf[8];
    struct ike_writer w;

    ike_writer_init(&w, buf, sizeof(buf));

    uint8_t *p = ike_writer_reserve(&w, 5);

    cr_assert_eq(p, buf);
    cr_expect_eq(ike_writer_len(&w), 5);
    cr_expect_null(ike_writer_reserve(&w, 4));
    cr_expect_eq(ike_writer_error(&w), -ENOBUFS);
}

Test(ike_buf, writer_without_buffer_fails)
{
    struct ike_writer w;

    ike_writer_init(&w, NULL, 100);
    ike_writer_u8(&w, 1);
    cr_expect_eq(ike_writer_error(&w), -ENOBUFS);
}

Test(ike_buf, writer_rejects_null_data_with_length)
{
    uint8_t buf[16];
    struct ike_writer w;

    ike_writer_init(&w, buf, sizeof(buf));
    ike_writer_bytes(&w, NULL, 0);
    cr_assert_eq(ike_writer_error(&w), 0);
    ike_writer_bytes(&w, NULL, 8);
    cr_expect_eq(ike_writer_error(&w), -EINVAL);
    cr_expect_eq(ike_writer_len(&w), 0);
}
