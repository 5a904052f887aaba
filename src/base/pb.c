/* Protocol buffers wire format (protobuf.dev/programming-guides/encoding): varints, fixed
 * little-endian words and length-delimited fields, lengths always in their shortest form. */
#include "pb.h"

#include <string.h>

#include "utf8.h"

/* U+FFFD REPLACEMENT CHARACTER, in place of each byte that begins no character. */
static const char replacement[3] = {'\xef', '\xbf', '\xbd'};

size_t pb_varint_len(uint64_t v)
{
    size_t n = 1;

    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

char *pb_put_varint(char *w, uint64_t v)
{
    while (v >= 0x80) {
        *w++ = (char)(v | 0x80);
        v >>= 7;
    }
    *w++ = (char)v;
    return w;
}

int pb_varint(struct buf *b, uint64_t v)
{
    char *w = buf_space(b, 10);

    return buf_commit(b, (size_t)(pb_put_varint(w, v) - w));
}

int pb_tag(struct buf *b, uint32_t field, enum pb_wire wire)
{
    return pb_varint(b, (uint64_t)field << 3 | (uint64_t)wire);
}

int pb_uint64(struct buf *b, uint32_t field, uint64_t v)
{
    char *w = buf_space(b, 15);
    char *end = pb_put_varint(pb_put_varint(w, (uint64_t)field << 3 | PB_VARINT), v);

    return buf_commit(b, (size_t)(end - w));
}

int pb_int64(struct buf *b, uint32_t field, int64_t v)
{
    return pb_uint64(b, field, (uint64_t)v);
}

int pb_fixed64(struct buf *b, uint32_t field, uint64_t v)
{
    char *w = buf_space(b, 13);
    char *p = pb_put_varint(w, (uint64_t)field << 3 | PB_FIXED64);

    for (int i = 0; i < 8; i++)
        *p++ = (char)(v >> (8 * i));
    return buf_commit(b, (size_t)(p - w));
}

int pb_double(struct buf *b, uint32_t field, double v)
{
    uint64_t bits;

    memcpy(&bits, &v, sizeof(bits));
    return pb_fixed64(b, field, bits);
}

int pb_bytes(struct buf *b, uint32_t field, const void *data, size_t len)
{
    char *w = buf_space(b, len + 15);
    char *p = pb_put_varint(pb_put_varint(w, (uint64_t)field << 3 | PB_LEN), len);

    if (len > 0)
        memcpy(p, data, len);
    return buf_commit(b, (size_t)(p + len - w));
}

/* s's length once each byte that begins no character is replaced; 0 bad bytes leave len. */
static size_t repaired_len(const char *s, size_t len)
{
    size_t out = 0;

    for (size_t i = 0; i < len;) {
        size_t n = utf8_char_len(s + i, len - i);

        out += n ? n : sizeof(replacement);
        i += n ? n : 1;
    }
    return out;
}

bool pb_utf8_as_is(const char *s, size_t len)
{
    size_t i = 0;

    /* Nearly every string is ASCII, checked a word at a time; most of the rest well formed. */
    for (; i + 8 <= len; i += 8) {
        uint64_t word;

        memcpy(&word, s + i, sizeof(word));
        if (word & 0x8080808080808080ULL)
            break;
    }
    while (i < len && (unsigned char)s[i] < 0x80)
        i++;
    return i == len || utf8_valid(s + i, len - i);
}

int pb_string(struct buf *b, uint32_t field, const char *s, size_t len)
{
    size_t i, out;
    char *w, *p;

    if (pb_utf8_as_is(s, len))
        return pb_bytes(b, field, s, len);
    out = repaired_len(s, len);
    w = buf_space(b, out + 15);
    p = pb_put_varint(pb_put_varint(w, (uint64_t)field << 3 | PB_LEN), out);
    for (i = 0; i < len;) {
        size_t n = utf8_char_len(s + i, len - i);

        if (n == 0) {
            memcpy(p, replacement, sizeof(replacement));
            p += sizeof(replacement);
            i++;
        } else {
            memcpy(p, s + i, n);
            p += n;
            i += n;
        }
    }
    return buf_commit(b, (size_t)(p - w));
}

size_t pb_begin_sized(struct buf *b, uint32_t field, size_t expected_len)
{
    size_t mark, reserve = pb_varint_len(expected_len);
    char *w;

    if (pb_tag(b, field, PB_LEN) == -1)
        return PB_NO_MARK;
    mark = b->len;
    /* The reserved bytes are a varint of 0 that long (80 80 00), so pb_end can tell. */
    w = buf_space(b, reserve);
    for (size_t i = 0; i + 1 < reserve; i++)
        w[i] = (char)0x80;
    w[reserve - 1] = 0;
    if (buf_commit(b, reserve) == -1)
        return PB_NO_MARK;
    return mark;
}

size_t pb_begin(struct buf *b, uint32_t field)
{
    /* One byte for the length: most messages here (labels, samples, points) are shorter than
     * 128 bytes, and longer ones move once. */
    return pb_begin_sized(b, field, 0);
}

int pb_end(struct buf *b, size_t mark)
{
    size_t reserved = 1, body, need;
    char *body_at;

    if (mark == PB_NO_MARK || mark >= b->len)
        return -1;
    while ((unsigned char)b->data[mark + reserved - 1] == 0x80)
        reserved++;
    body = b->len - mark - reserved;
    need = pb_varint_len(body);
    if (need < reserved) {
        /* Shorter than expected: the body moves back. */
        body_at = b->data + mark + reserved;
        memmove(body_at - (reserved - need), body_at, body);
        b->len -= reserved - need;
        b->data[b->len] = '\0';
    } else if (need > reserved) {
        size_t extra = need - reserved;

        if (extra > b->max_bytes || b->len > b->max_bytes - extra)
            return -1;
        buf_space(b, extra); /* may move the data */
        body_at = b->data + mark + reserved;
        memmove(body_at + extra, body_at, body);
        if (buf_commit(b, extra) == -1)
            return -1;
    }
    pb_put_varint(b->data + mark, body);
    return 0;
}

size_t pb_varint_read(const char *p, size_t len, uint64_t *v)
{
    uint64_t r = 0;

    for (size_t i = 0; i < len && i < 10; i++) {
        unsigned char c = (unsigned char)p[i];

        r |= (uint64_t)(c & 0x7f) << (7 * i);
        if (c < 0x80) {
            *v = r;
            return i + 1;
        }
    }
    return 0;
}

size_t pb_len_field_read(const char *p, size_t len, uint32_t *field, const char **body,
                         size_t *body_len)
{
    uint64_t key, n;
    size_t k = pb_varint_read(p, len, &key), m;

    if (k == 0 || (key & 7) != PB_LEN || key >> 3 == 0 || key >> 3 > UINT32_MAX)
        return 0;
    m = pb_varint_read(p + k, len - k, &n);
    if (m == 0 || n > len - k - m)
        return 0;
    *field = (uint32_t)(key >> 3);
    *body = p + k + m;
    *body_len = (size_t)n;
    return k + m + (size_t)n;
}
