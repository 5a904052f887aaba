/* gzip tests: the output is a gzip stream that inflates back to the input. */
#include <zlib.h>

#include "io/gzip.h"
#include "test.h"

static void test_gzip(void)
{
    struct buf z;
    char text[10000], back[10000];
    uLongf back_len = sizeof(back);
    z_stream s = {0};

    for (size_t i = 0; i < sizeof(text); i++)
        text[i] = (char)('a' + i % 7);
    buf_init(&z, 1 << 20);
    CHECK_EQ(gzip_compress(text, sizeof(text), &z), 0);
    CHECK(z.len < sizeof(text) / 10);
    CHECK_EQ((unsigned char)z.data[0], 0x1f); /* gzip magic */
    CHECK_EQ((unsigned char)z.data[1], 0x8b);
    inflateInit2(&s, 15 + 16);
    s.next_in = (unsigned char *)z.data;
    s.avail_in = (uInt)z.len;
    s.next_out = (unsigned char *)back;
    s.avail_out = (uInt)back_len;
    CHECK_EQ(inflate(&s, Z_FINISH), Z_STREAM_END);
    CHECK_EQ(s.total_out, sizeof(text));
    CHECK(memcmp(text, back, sizeof(text)) == 0);
    inflateEnd(&s);
    buf_free(&z);
}

int main(void)
{
    RUN(test_gzip);
    return test_report();
}
