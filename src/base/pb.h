/* Protocol buffers wire format written into a struct buf: the field kinds the push encoders
 * (remote write, OTLP) need, nested messages included. Pure; the buf is the only allocation. */
#ifndef NSTATS_PB_H
#define NSTATS_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

enum pb_wire { PB_VARINT = 0, PB_FIXED64 = 1, PB_LEN = 2, PB_FIXED32 = 5 };

/* What pb_begin returns when it could not write the tag; pb_end fails on it. */
#define PB_NO_MARK ((size_t)-1)

/* Every writer appends to b (which must have no drain: a message's length is written after its
 * body) and returns 0, or -1 if b's cap was reached (b may then hold part of the field). */

/* The base-128 varint form of v (1 to 10 bytes). */
int pb_varint(struct buf *b, uint64_t v);
/* A field's key: field number and wire type. field is 1 to 2^29 - 1. */
int pb_tag(struct buf *b, uint32_t field, enum pb_wire wire);
/* uint64, bool and enum fields; int64 goes through pb_int64 (negatives take 10 bytes). */
int pb_uint64(struct buf *b, uint32_t field, uint64_t v);
int pb_int64(struct buf *b, uint32_t field, int64_t v);
/* fixed64, sfixed64 (as its two's complement bits) and double: 8 bytes, little-endian. */
int pb_fixed64(struct buf *b, uint32_t field, uint64_t v);
int pb_double(struct buf *b, uint32_t field, double v);
/* A bytes field: the len bytes at data as they are. */
int pb_bytes(struct buf *b, uint32_t field, const void *data, size_t len);
/* A string field, which protobuf requires to be UTF-8: every byte of s that does not begin a
 * well-formed character (utf8_char_len) is written as U+FFFD, so strict decoders accept it. */
int pb_string(struct buf *b, uint32_t field, const char *s, size_t len);

/* True if the len bytes at s go into a string field as they are: well-formed UTF-8. */
bool pb_utf8_as_is(const char *s, size_t len);

/* A nested message: pb_begin writes the field's tag and returns a mark (PB_NO_MARK if it could
 * not); the message's fields follow; pb_end writes the body's length in front of it as a
 * minimal varint, moving the body when the length takes another number of bytes than were
 * reserved (one). */
size_t pb_begin(struct buf *b, uint32_t field);
/* pb_begin for a body expected to be about expected_len bytes: room for that length is
 * reserved, so the body moves only if it turns out to need another number of bytes. */
size_t pb_begin_sized(struct buf *b, uint32_t field, size_t expected_len);
int pb_end(struct buf *b, size_t mark);

/* Bytes the varint form of v takes (1 to 10). */
size_t pb_varint_len(uint64_t v);
/* For writers that size a whole message first and fill buf_space's room themselves: writes v's
 * varint at w (room for 10 bytes) and returns the end. */
char *pb_put_varint(char *w, uint64_t v);
/* Reads a varint from the len bytes at p, for walking what these writers wrote. Returns the
 * bytes read, or 0 if p holds no complete varint of at most 10 bytes. */
size_t pb_varint_read(const char *p, size_t len, uint64_t *v);
/* Reads the length-delimited field at the start of the len bytes at p: its number and body.
 * Returns the field's whole size, or 0 if p does not start with a complete one. */
size_t pb_len_field_read(const char *p, size_t len, uint32_t *field, const char **body,
                         size_t *body_len);

#endif
