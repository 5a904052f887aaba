/* Protobuf writer tests: the exact bytes of each field kind (the examples of protobuf.dev's
 * encoding guide among them), nested lengths in their shortest form at every size boundary,
 * strings made UTF-8, and the cap. */
#include <stdbool.h>
#include <stdlib.h>

#include "base/pb.h"
#include "pbread.h"
#include "test.h"

/* True if b holds exactly the bytes hex spells ("0a 03 61"); prints both if not. */
static bool bytes_are(const struct buf *b, const char *hex)
{
    unsigned char want[256];
    size_t n = 0;

    for (const char *p = hex; *p != '\0';) {
        char *end;

        if (*p == ' ') {
            p++;
            continue;
        }
        want[n++] = (unsigned char)strtoul(p, &end, 16);
        p = end;
    }
    if (b->len == n && memcmp(b->data, want, n) == 0)
        return true;
    fprintf(stderr, "got:  ");
    for (size_t i = 0; i < b->len; i++)
        fprintf(stderr, "%02x ", (unsigned char)b->data[i]);
    fprintf(stderr, "\nwant: %s\n", hex);
    return false;
}

static void test_varint(void)
{
    static const struct {
        uint64_t v;
        const char *hex;
    } cases[] = {
        {0, "00"},        {1, "01"},           {127, "7f"},
        {128, "80 01"},   {150, "96 01"},      {300, "ac 02"},
        {16383, "ff 7f"}, {16384, "80 80 01"}, {UINT64_MAX, "ff ff ff ff ff ff ff ff ff 01"},
    };
    struct buf b;

    buf_init(&b, 1024);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t back = 0;

        buf_reset(&b);
        CHECK_EQ(pb_varint(&b, cases[i].v), 0);
        CHECK(bytes_are(&b, cases[i].hex));
        CHECK_EQ(pb_varint_len(cases[i].v), b.len);
        CHECK_EQ(pb_varint_read(b.data, b.len, &back), b.len);
        CHECK_EQ(back, cases[i].v);
        CHECK_EQ(pb_varint_read(b.data, b.len - 1, &back), 0); /* cut short */
    }
    CHECK_EQ(pb_varint_read("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 11, &(uint64_t){0}), 0);
    buf_free(&b);
}

static void test_fields(void)
{
    struct buf b;

    buf_init(&b, 1024);
    /* Test1 { int32 a = 1; } with a = 150: the encoding guide's first example. */
    CHECK_EQ(pb_uint64(&b, 1, 150), 0);
    CHECK(bytes_are(&b, "08 96 01"));
    buf_reset(&b);
    CHECK_EQ(pb_int64(&b, 2, -1), 0);
    CHECK(bytes_are(&b, "10 ff ff ff ff ff ff ff ff ff 01"));
    buf_reset(&b);
    CHECK_EQ(pb_tag(&b, 16, PB_VARINT), 0); /* fields past 15 take a second byte */
    CHECK(bytes_are(&b, "80 01"));
    buf_reset(&b);
    CHECK_EQ(pb_double(&b, 1, 1.0), 0);
    CHECK(bytes_are(&b, "09 00 00 00 00 00 00 f0 3f"));
    buf_reset(&b);
    CHECK_EQ(pb_fixed64(&b, 6, 0x0102030405060708ULL), 0);
    CHECK(bytes_are(&b, "31 08 07 06 05 04 03 02 01"));
    buf_reset(&b);
    /* Test2 { string b = 2; } with b = "testing". */
    CHECK_EQ(pb_string(&b, 2, "testing", 7), 0);
    CHECK(bytes_are(&b, "12 07 74 65 73 74 69 6e 67"));
    buf_reset(&b);
    CHECK_EQ(pb_bytes(&b, 4, "\xff\x00", 2), 0); /* bytes go as they are */
    CHECK(bytes_are(&b, "22 02 ff 00"));
    buf_reset(&b);
    CHECK_EQ(pb_string(&b, 1, "", 0), 0);
    CHECK(bytes_are(&b, "0a 00"));
    buf_free(&b);
}

static void test_utf8(void)
{
    struct buf b;

    buf_init(&b, 1024);
    /* Well formed: as it is. */
    CHECK_EQ(pb_string(&b, 1, "\xc3\xa9\xe2\x82\xac", 5), 0);
    CHECK(bytes_are(&b, "0a 05 c3 a9 e2 82 ac"));
    buf_reset(&b);
    /* A stray byte, a sequence cut short and an overlong form: U+FFFD for each byte. */
    CHECK_EQ(pb_string(&b, 1,
                       "a\xff"
                       "b",
                       3),
             0);
    CHECK(bytes_are(&b, "0a 05 61 ef bf bd 62"));
    buf_reset(&b);
    CHECK_EQ(pb_string(&b, 1, "\xe2\x82", 2), 0);
    CHECK(bytes_are(&b, "0a 06 ef bf bd ef bf bd"));
    buf_reset(&b);
    CHECK_EQ(pb_string(&b, 1, "\xc0\xaf\xc3\xa9", 4), 0);
    CHECK(bytes_are(&b, "0a 08 ef bf bd ef bf bd c3 a9"));
    /* Past the first words read whole. */
    CHECK(pb_utf8_as_is("abcdefghijklmnopq", 17));
    CHECK(pb_utf8_as_is("abcdefgh\xc3\xa9", 10));
    CHECK(!pb_utf8_as_is("abcdefghijklmno\xff", 16));
    CHECK(!pb_utf8_as_is("abcdefghijklmnop\xc3", 17));
    CHECK(pb_utf8_as_is("", 0));
    buf_free(&b);
}

/* A message whose body is n bytes (one bytes field), nested in another: lengths at every size
 * where the varint grows. */
static void test_nested_sizes(void)
{
    static const size_t sizes[] = {0,   1,     125,   126,   127,   128,
                                   129, 16381, 16382, 16383, 16384, 2097152};
    struct buf b;
    char *fill = malloc(2097152);

    for (size_t i = 0; i < 2097152; i++)
        fill[i] = (char)('a' + i % 26);
    buf_init(&b, 8u << 20);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t n = sizes[i], outer, inner;
        struct pbread r, r2;
        struct pbfield f;

        buf_reset(&b);
        CHECK_EQ(pb_uint64(&b, 9, 1), 0); /* something before, which must stay put */
        outer = pb_begin(&b, 3);
        inner = pb_begin(&b, 1);
        CHECK_EQ(pb_bytes(&b, 2, fill, n), 0);
        CHECK_EQ(pb_end(&b, inner), 0);
        CHECK_EQ(pb_uint64(&b, 4, 7), 0);
        CHECK_EQ(pb_end(&b, outer), 0);
        /* The strict reader refuses any length longer than it needs to be. */
        r = pbread_of(b.data, b.len);
        CHECK_EQ(pbread_next(&r, &f), 1);
        CHECK(f.num == 9 && f.v == 1);
        CHECK_EQ(pbread_next(&r, &f), 1);
        CHECK_EQ(f.num, 3);
        CHECK_EQ(pbread_next(&r, &(struct pbfield){0}), 0);
        r = pbread_of(f.data, f.len);
        CHECK_EQ(pbread_next(&r, &f), 1);
        CHECK_EQ(f.num, 1);
        CHECK_EQ(f.len, n + 1 + pb_varint_len(n));
        r2 = pbread_of(f.data, f.len);
        CHECK_EQ(pbread_next(&r2, &f), 1);
        CHECK(f.num == 2 && f.len == n && memcmp(f.data, fill, n) == 0);
        CHECK_EQ(pbread_next(&r, &f), 1);
        CHECK(f.num == 4 && f.v == 7);
        CHECK_EQ(pbread_next(&r, &f), 0);
    }
    /* The encoding guide's Test3 { Test1 c = 3; } with c.a = 150. */
    buf_reset(&b);
    {
        size_t m = pb_begin(&b, 3);

        CHECK_EQ(pb_uint64(&b, 1, 150), 0);
        CHECK_EQ(pb_end(&b, m), 0);
        CHECK(bytes_are(&b, "1a 03 08 96 01"));
    }
    buf_free(&b);
    free(fill);
}

/* A reserved length that turns out too long or too short: the body moves either way. */
static void test_sized(void)
{
    static const size_t expected[] = {0, 100, 200, 20000, 3000000};
    static const size_t actual[] = {0, 5, 127, 128, 300, 16384};
    char fill[16384];
    struct buf b;

    memset(fill, 'q', sizeof(fill));
    buf_init(&b, 1 << 20);
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        for (size_t j = 0; j < sizeof(actual) / sizeof(actual[0]); j++) {
            size_t m, n = actual[j];
            struct pbread r;
            struct pbfield f;

            buf_reset(&b);
            m = pb_begin_sized(&b, 5, expected[i]);
            CHECK_EQ(buf_append(&b, fill, n), 0);
            CHECK_EQ(pb_end(&b, m), 0);
            CHECK_EQ(b.len, 1 + pb_varint_len(n) + n);
            CHECK_EQ(b.data[b.len], '\0');
            r = pbread_of(b.data, b.len);
            CHECK_EQ(pbread_next(&r, &f), 1);
            CHECK(f.num == 5 && f.len == n && memcmp(f.data, fill, n) == 0);
        }
    }
    buf_free(&b);
}

static void test_len_field_read(void)
{
    struct buf b;
    uint32_t field;
    const char *body;
    size_t len;

    buf_init(&b, 1024);
    CHECK_EQ(pb_string(&b, 7, "key", 3), 0);
    CHECK_EQ(pb_len_field_read(b.data, b.len, &field, &body, &len), b.len);
    CHECK(field == 7 && len == 3 && memcmp(body, "key", 3) == 0);
    CHECK_EQ(pb_len_field_read(b.data, b.len - 1, &field, &body, &len), 0); /* cut short */
    buf_reset(&b);
    CHECK_EQ(pb_uint64(&b, 7, 3), 0); /* not length-delimited */
    CHECK_EQ(pb_len_field_read(b.data, b.len, &field, &body, &len), 0);
    buf_free(&b);
}

static void test_cap(void)
{
    struct buf b;
    char fill[200];
    size_t m;

    memset(fill, 'x', sizeof(fill));
    /* Room for the 200-byte body with a one-byte length, not for the second length byte. */
    buf_init(&b, 1 + 1 + 1 + 2 + 200);
    m = pb_begin(&b, 1);
    CHECK(m != PB_NO_MARK);
    CHECK_EQ(pb_bytes(&b, 2, fill, sizeof(fill)), 0);
    CHECK_EQ(b.len, 205);
    CHECK_EQ(pb_end(&b, m), -1);
    CHECK_EQ(pb_end(&b, PB_NO_MARK), -1);
    buf_free(&b);
    buf_init(&b, 2);
    CHECK_EQ(pb_string(&b, 1, "abc", 3), -1);
    CHECK_EQ(b.len, 0);
    CHECK(pb_begin(&b, 1) != PB_NO_MARK); /* tag and length byte just fit */
    CHECK(pb_begin(&b, 1) == PB_NO_MARK);
    buf_free(&b);
}

int main(void)
{
    RUN(test_varint);
    RUN(test_fields);
    RUN(test_utf8);
    RUN(test_nested_sizes);
    RUN(test_sized);
    RUN(test_len_field_read);
    RUN(test_cap);
    return test_report();
}
