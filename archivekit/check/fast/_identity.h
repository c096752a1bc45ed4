/*
 * The post identity of archivekit/check/duplicates.py in C: XXH64 (seed 0) of a canonical,
 * length-prefixed encoding of the identity's parts (the module docstring there defines it).
 * Shared by the fast path's modules: _scan.c (duplicate posts) and _report.c (reconcile's
 * identity records).
 */
#ifndef ARCHIVEKIT_IDENTITY_H
#define ARCHIVEKIT_IDENTITY_H

#include "_jsonline.h"

/* archivekit/check/duplicates.py documents the encoding and the digest; `post_identity` there
 * computes the same value with the xxhash package (xxh64, seed 0). XXH64 as specified by
 * xxHash (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md); tests hold this code
 * to the package bit for bit. The encoding is built in a buffer, then digested in one pass. */

#define XXH_P1 0x9E3779B185EBCA87ULL
#define XXH_P2 0xC2B2AE3D27D4EB4FULL
#define XXH_P3 0x165667B19E3779F9ULL
#define XXH_P4 0x85EBCA77C2B2AE63ULL
#define XXH_P5 0x27D4EB2F165667C5ULL

static inline uint64_t rotl64(uint64_t x, unsigned n) { return (x << n) | (x >> (64 - n)); }

static inline uint64_t load64le(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint32_t load32le(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

static inline uint64_t xxh_round(uint64_t acc, uint64_t input) {
    acc += input * XXH_P2;
    return rotl64(acc, 31) * XXH_P1;
}

static inline uint64_t xxh_merge(uint64_t acc, uint64_t v) {
    acc ^= xxh_round(0, v);
    return acc * XXH_P1 + XXH_P4;
}

/* XXH64 of `n` bytes with seed 0. */
static inline uint64_t xxh64(const uint8_t *p, size_t n) {
    const uint8_t *end = p + n;
    uint64_t h;
    if (n >= 32) {
        uint64_t v1 = XXH_P1 + XXH_P2, v2 = XXH_P2, v3 = 0, v4 = 0 - XXH_P1;
        do {
            v1 = xxh_round(v1, load64le(p));
            v2 = xxh_round(v2, load64le(p + 8));
            v3 = xxh_round(v3, load64le(p + 16));
            v4 = xxh_round(v4, load64le(p + 24));
            p += 32;
        } while (end - p >= 32);
        h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
        h = xxh_merge(h, v1);
        h = xxh_merge(h, v2);
        h = xxh_merge(h, v3);
        h = xxh_merge(h, v4);
    } else {
        h = XXH_P5;
    }
    h += (uint64_t)n;
    for (; end - p >= 8; p += 8) {
        h ^= xxh_round(0, load64le(p));
        h = rotl64(h, 27) * XXH_P1 + XXH_P4;
    }
    if (end - p >= 4) {
        h ^= (uint64_t)load32le(p) * XXH_P1;
        h = rotl64(h, 23) * XXH_P2 + XXH_P3;
        p += 4;
    }
    for (; p < end; p++) {
        h ^= (*p) * XXH_P5;
        h = rotl64(h, 11) * XXH_P1;
    }
    h ^= h >> 33;
    h *= XXH_P2;
    h ^= h >> 29;
    h *= XXH_P3;
    h ^= h >> 32;
    return h;
}

/* The canonical encoding being built: a stack buffer, or the heap past it. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
    uint8_t small[1024];
} Encoding;

static inline void encoding_init(Encoding *e) {
    e->data = e->small;
    e->len = 0;
    e->cap = sizeof e->small;
}

static inline void encoding_free(Encoding *e) {
    if (e->data != e->small) PyMem_Free(e->data);
}

/* Room for `n` more bytes (FAIL with MemoryError set when there is none). */
static inline int encoding_room(Encoding *e, size_t n) {
    if (e->len + n <= e->cap) return OK;
    size_t cap = e->cap * 2 > e->len + n ? e->cap * 2 : e->len + n;
    uint8_t *data = PyMem_Malloc(cap);
    if (data == NULL) {
        PyErr_NoMemory();
        return FAIL;
    }
    memcpy(data, e->data, e->len);
    encoding_free(e);
    e->data = data;
    e->cap = cap;
    return OK;
}

/* A part's kind byte and an 8-byte little-endian value (an int64) or length (a str). */
static inline void put_kind(Encoding *e, uint8_t kind, uint64_t v) {
    e->data[e->len++] = kind;
    for (int i = 0; i < 8; i++) e->data[e->len++] = (uint8_t)(v >> (8 * i));
}

static inline int identity_int(Encoding *e, long long value) {
    if (encoding_room(e, 9) != OK) return FAIL;
    put_kind(e, 'i', (uint64_t)value);
    return OK;
}

static inline int identity_bytes(Encoding *e, const char *text, Py_ssize_t n) {
    if (encoding_room(e, 9 + (size_t)n) != OK) return FAIL;
    put_kind(e, 's', (uint64_t)n);
    memcpy(e->data + e->len, text, (size_t)n);
    e->len += (size_t)n;
    return OK;
}

/* A str part (a name the scanner already holds as a Python str). */
static inline int identity_str(Encoding *e, PyObject *text) {
    Py_ssize_t n;
    const char *utf8 = PyUnicode_AsUTF8AndSize(text, &n);
    if (utf8 == NULL) return FAIL;
    return identity_bytes(e, utf8, n);
}

/* A str part straight from the line (unescaped in place when it has escapes: unescaping
 * never grows the text). */
static inline int identity_raw(Encoding *e, const Str *text) {
    if (!text->escaped) return identity_bytes(e, (const char *)text->start, text->len);
    if (encoding_room(e, 9 + (size_t)text->len) != OK) return FAIL;
    size_t at = e->len;
    Py_ssize_t n = unescape(text, (char *)e->data + at + 9);
    put_kind(e, 's', (uint64_t)n);
    e->len = at + 9 + (size_t)n;
    return OK;
}

#endif
