/* UTF-8 tests: well-formed text passes, every kind of malformed byte sequence is caught. */
#include "base/utf8.h"
#include "test.h"

static void test_char_len(void)
{
    CHECK_EQ(utf8_char_len("a", 1), 1);
    CHECK_EQ(utf8_char_len("\xc3\xa9", 2), 2);         /* é */
    CHECK_EQ(utf8_char_len("\xe2\x82\xac", 3), 3);     /* € */
    CHECK_EQ(utf8_char_len("\xf0\x9f\x98\x80", 4), 4); /* U+1F600 */
    CHECK_EQ(utf8_char_len("\xc3\xa9", 1), 0);         /* cut short */
    CHECK_EQ(utf8_char_len("\x80", 1), 0);             /* stray continuation */
    CHECK_EQ(utf8_char_len("\xc0\xaf", 2), 0);         /* overlong '/' */
    CHECK_EQ(utf8_char_len("\xe0\x80\xaf", 3), 0);     /* overlong */
    CHECK_EQ(utf8_char_len("\xed\xa0\x80", 3), 0);     /* surrogate */
    CHECK_EQ(utf8_char_len("\xf4\x90\x80\x80", 4), 0); /* past U+10FFFF */
    CHECK_EQ(utf8_char_len("\xff", 1), 0);
}

static void test_valid_and_printable(void)
{
    CHECK(utf8_valid("web-1", 5));
    CHECK(utf8_valid("caf\xc3\xa9", 5));
    CHECK(!utf8_valid("a\xffz", 3));
    CHECK(utf8_printable("web-1.example"));
    CHECK(utf8_printable("Z\xc3\xbcrich"));
    CHECK(!utf8_printable("a\xffz"));
    CHECK(!utf8_printable("a\x1b[31mz"));
    CHECK(!utf8_printable("a\tz"));
    CHECK(!utf8_printable("a\x7fz"));
    CHECK(!utf8_printable("a\xc2\x9bz")); /* C1 CSI */
    CHECK(utf8_printable("a\xc2\xa0z"));  /* no-break space is text */
}

int main(void)
{
    RUN(test_char_len);
    RUN(test_valid_and_printable);
    return test_report();
}
