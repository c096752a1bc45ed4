/*
 * One line of an export, walked in place: the JSON lexer the C modules of the fast path share
 * (archivekit/check/fast/_scan.c validates post lines, _report.c counts them for the tables).
 *
 * Nothing here builds a document: a cursor moves over the raw bytes, checking syntax, escapes
 * and UTF-8 as it goes. Every function answers OK, DECLINE (anything unusual: the caller's
 * Python path takes the line from scratch), END (the closing brace or bracket) or FAIL (a
 * Python exception is set). Input is hostile: every read is bounds-checked against the end of
 * the line. Each module calls jsonline_init() once, at import.
 */
#ifndef ARCHIVEKIT_JSONLINE_H
#define ARCHIVEKIT_JSONLINE_H

#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "_memberindex.h" /* nfc_quick */
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define DECLINE 0
#define OK 1
#define FAIL (-1) /* a Python exception is set */
#define END 2     /* closing brace or bracket reached */

/* Attachment paths longer than this go to the general path. */
#define MAX_PATH_BYTES 4096

static const char POST_PREFIX[] = "{\"type\":\"post\",\"post\":";
static const char DIRECT_PREFIX[] = "{\"type\":\"direct_post\",\"direct_post\":";

/* Byte classes inside a JSON string: 0 plain ASCII, 1 quote, 2 backslash, 3 control, 4 non-ASCII */
static unsigned char string_class[256];

typedef struct {
    const unsigned char *p;
    const unsigned char *end;
} Cur;

typedef struct {
    const unsigned char *start; /* first byte after the opening quote */
    Py_ssize_t len;             /* raw bytes between the quotes */
    Py_ssize_t runes;           /* code points once unescaped */
    int escaped;
} Str;

/* --- lexical helpers --------------------------------------------------------------------- */

static inline void skip_ws(Cur *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static inline int hex4(const unsigned char *p, const unsigned char *end, uint32_t *out) {
    uint32_t v = 0;
    if (end - p < 4) return 0;
    for (int i = 0; i < 4; i++) {
        unsigned char h = p[i];
        v <<= 4;
        if (h >= '0' && h <= '9') v |= (uint32_t)(h - '0');
        else if (h >= 'a' && h <= 'f') v |= (uint32_t)(h - 'a' + 10);
        else if (h >= 'A' && h <= 'F') v |= (uint32_t)(h - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

/* Length of one well-formed UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF), or 0. Go would replace bad bytes with U+FFFD: the general path's
 * business. */
static inline int utf8_sequence(const unsigned char *p, const unsigned char *end) {
    unsigned char b0 = p[0];
    Py_ssize_t avail = end - p;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        return (avail >= 2 && (p[1] & 0xC0) == 0x80) ? 2 : 0;
    }
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        if (avail < 3 || (p[2] & 0xC0) != 0x80) return 0;
        unsigned char lo = 0x80, hi = 0xBF;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;
        return (p[1] >= lo && p[1] <= hi) ? 3 : 0;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        if (avail < 4 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
        unsigned char lo = 0x80, hi = 0xBF;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
        return (p[1] >= lo && p[1] <= hi) ? 4 : 0;
    }
    return 0;
}

/* A JSON string at c->p (which must be '"'). Declines control characters, bad escapes, an
 * escaped NUL (the general path reports it), lone surrogates and invalid UTF-8. */
static inline int scan_string(Cur *c, Str *s) {
    const unsigned char *p = c->p, *end = c->end;
    Py_ssize_t runes = 0;
    int escaped = 0;
    if (p >= end || *p != '"') return DECLINE;
    p++;
    s->start = p;
    for (;;) {
#if defined(__SSE2__)
        /* Sixteen bytes at a time through plain ASCII: a signed compare below 0x20 finds
         * control characters and non-ASCII bytes (negative as signed) in one go. */
        while (end - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)p);
            __m128i stop = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
            int mask = _mm_movemask_epi8(stop);
            if (mask == 0) {
                p += 16;
                runes += 16;
                continue;
            }
            int skip = __builtin_ctz((unsigned)mask);
            p += skip;
            runes += skip;
            break;
        }
#endif
        while (p < end && string_class[*p] == 0) {
            p++;
            runes++;
        }
        if (p >= end) return DECLINE;
        switch (string_class[*p]) {
            case 1:
                s->len = p - s->start;
                s->runes = runes;
                s->escaped = escaped;
                c->p = p + 1;
                return OK;
            case 2: {
                escaped = 1;
                if (end - p < 2) return DECLINE;
                switch (p[1]) {
                    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
                        p += 2;
                        runes++;
                        continue;
                    case 'u': {
                        uint32_t u, lo;
                        if (!hex4(p + 2, end, &u) || u == 0) return DECLINE;
                        if (u >= 0xD800 && u <= 0xDBFF) {
                            if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || !hex4(p + 8, end, &lo) ||
                                lo < 0xDC00 || lo > 0xDFFF)
                                return DECLINE;
                            p += 12;
                        } else if (u >= 0xDC00 && u <= 0xDFFF) {
                            return DECLINE;
                        } else {
                            p += 6;
                        }
                        runes++;
                        continue;
                    }
                    default:
                        return DECLINE;
                }
            }
            case 3:
                return DECLINE;
            default: {
                int n = utf8_sequence(p, end);
                if (n == 0) return DECLINE;
                p += n;
                runes++;
            }
        }
    }
}

static inline Py_ssize_t put_utf8(char *out, uint32_t u) {
    if (u < 0x80) {
        out[0] = (char)u;
        return 1;
    }
    if (u < 0x800) {
        out[0] = (char)(0xC0 | (u >> 6));
        out[1] = (char)(0x80 | (u & 0x3F));
        return 2;
    }
    if (u < 0x10000) {
        out[0] = (char)(0xE0 | (u >> 12));
        out[1] = (char)(0x80 | ((u >> 6) & 0x3F));
        out[2] = (char)(0x80 | (u & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (u >> 18));
    out[1] = (char)(0x80 | ((u >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((u >> 6) & 0x3F));
    out[3] = (char)(0x80 | (u & 0x3F));
    return 4;
}

/* The UTF-8 bytes of a string scan_string accepted, unescaped into `buf`; returns their
 * length. Unescaping never grows the text (\uXXXX is six bytes for at most three, a
 * surrogate pair twelve for four), so a buffer of the raw length always suffices. */
static inline Py_ssize_t unescape(const Str *s, char *buf) {
    const unsigned char *p = s->start, *end = s->start + s->len;
    Py_ssize_t n = 0;
    while (p < end) {
        if (*p != '\\') {
            buf[n++] = (char)*p++;
            continue;
        }
        switch (p[1]) {
            case 'b': buf[n++] = '\b'; p += 2; break;
            case 'f': buf[n++] = '\f'; p += 2; break;
            case 'n': buf[n++] = '\n'; p += 2; break;
            case 'r': buf[n++] = '\r'; p += 2; break;
            case 't': buf[n++] = '\t'; p += 2; break;
            case 'u': {
                uint32_t u = 0, lo = 0;
                hex4(p + 2, end, &u);
                if (u >= 0xD800 && u <= 0xDBFF) {
                    hex4(p + 8, end, &lo);
                    u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                    p += 12;
                } else {
                    p += 6;
                }
                n += put_utf8(buf + n, u);
                break;
            }
            default: /* " \ / */
                buf[n++] = (char)p[1];
                p += 2;
        }
    }
    return n;
}

/* The Python str of a string scan_string accepted. */
static inline PyObject *to_str(const Str *s) {
    if (!s->escaped) return PyUnicode_DecodeUTF8((const char *)s->start, s->len, NULL);
    char small[512];
    char *buf = s->len <= (Py_ssize_t)sizeof small ? small : PyMem_Malloc((size_t)s->len);
    if (buf == NULL) return PyErr_NoMemory();
    PyObject *result = PyUnicode_DecodeUTF8(buf, unescape(s, buf), NULL);
    if (buf != small) PyMem_Free(buf);
    return result;
}

/* An integer as Go decodes it into an int64 field: no fraction, no exponent, in range. */
static inline int scan_int64(Cur *c, long long *out) {
    const unsigned char *p = c->p, *end = c->end;
    int negative = 0;
    unsigned long long v = 0;
    if (p < end && *p == '-') {
        negative = 1;
        p++;
    }
    if (p >= end || *p < '0' || *p > '9') return DECLINE;
    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9') return DECLINE;
    } else {
        while (p < end && *p >= '0' && *p <= '9') {
            unsigned d = (unsigned)(*p - '0');
            if (v > (UINT64_MAX - d) / 10) return DECLINE;
            v = v * 10 + d;
            p++;
        }
    }
    if (p < end && (*p == '.' || *p == 'e' || *p == 'E')) return DECLINE;
    if (negative ? v > (1ULL << 63) : v > (unsigned long long)INT64_MAX) return DECLINE;
    *out = negative ? (long long)(0ULL - v) : (long long)v;
    c->p = p;
    return OK;
}

/* A number in props (Go: a float64): plain decimals only, short enough that no reader
 * overflows (18 characters: every such integer fits an int64, as orjson wants). */
static inline int scan_plain_number(Cur *c) {
    const unsigned char *p = c->p, *end = c->end, *start = c->p;
    if (p < end && *p == '-') p++;
    if (p >= end || *p < '0' || *p > '9') return DECLINE;
    if (*p == '0') {
        p++;
    } else {
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9') return DECLINE;
        while (p < end && *p >= '0' && *p <= '9') p++;
    }
    if (p < end && (*p == 'e' || *p == 'E' || (*p >= '0' && *p <= '9'))) return DECLINE;
    if (p - start > 18) return DECLINE;
    c->p = p;
    return OK;
}

static inline int literal(Cur *c, const char *word, Py_ssize_t n) {
    if (c->end - c->p < n || memcmp(c->p, word, (size_t)n) != 0) return 0;
    c->p += n;
    return 1;
}

static inline int at(Cur *c, unsigned char ch) { return c->p < c->end && *c->p == ch; }

/* JSON null at the cursor (consumed). */
static inline int is_null(Cur *c) { return at(c, 'n') && literal(c, "null", 4); }

/* Members of an object: call after '{'. OK with the key scanned and the cursor on its value,
 * END after the closing brace. */
static inline int member(Cur *c, int *first, Str *key) {
    skip_ws(c);
    if (c->p >= c->end) return DECLINE;
    if (*c->p == '}') {
        c->p++;
        return END;
    }
    if (*first) {
        *first = 0;
    } else {
        if (*c->p != ',') return DECLINE;
        c->p++;
        skip_ws(c);
    }
    if (scan_string(c, key) != OK) return DECLINE;
    skip_ws(c);
    if (!at(c, ':')) return DECLINE;
    c->p++;
    skip_ws(c);
    return OK;
}

/* `member` for objects whose keys matter: an escaped key is declined (Go would unescape it
 * and might match a known key; rare). */
static inline int next_member(Cur *c, int *first, Str *key) {
    int r = member(c, first, key);
    return r == OK && key->escaped ? DECLINE : r;
}

/* Elements of an array: call after '['. OK with the cursor on the element, END after ']'. */
static inline int next_element(Cur *c, int *first) {
    skip_ws(c);
    if (c->p >= c->end) return DECLINE;
    if (*c->p == ']') {
        c->p++;
        return END;
    }
    if (*first) {
        *first = 0;
    } else {
        if (*c->p != ',') return DECLINE;
        c->p++;
        skip_ws(c);
    }
    return c->p < c->end ? OK : DECLINE;
}

static inline int open_container(Cur *c, unsigned char ch) {
    if (!at(c, ch)) return 0;
    c->p++;
    return 1;
}

/* --- keys -------------------------------------------------------------------------------- */

enum {
    K_TEAM = 1 << 0,
    K_CHANNEL = 1 << 1,
    K_USER = 1 << 2,
    K_TYPE = 1 << 3,
    K_MESSAGE = 1 << 4,
    K_PROPS = 1 << 5,
    K_CREATE_AT = 1 << 6,
    K_EDIT_AT = 1 << 7,
    K_FLAGGED_BY = 1 << 8,
    K_REACTIONS = 1 << 9,
    K_REPLIES = 1 << 10,
    K_ATTACHMENTS = 1 << 11,
    K_IS_PINNED = 1 << 12,
    K_THREAD_FOLLOWERS = 1 << 13,
    K_CHANNEL_MEMBERS = 1 << 14,
    K_EMOJI_NAME = 1 << 15,
    K_LAST_VIEWED = 1 << 16,
    K_UNREAD_MENTIONS = 1 << 17,
};

/* Every key the fast path knows, the most frequent first (a line's keys are looked up here). */
static const struct {
    const char *name;
    Py_ssize_t len;
    unsigned bit;
} KNOWN_KEYS[] = {
#define KEY(name, bit) {name, (Py_ssize_t)(sizeof(name) - 1), bit}
    KEY("user", K_USER),
    KEY("message", K_MESSAGE),
    KEY("create_at", K_CREATE_AT),
    KEY("emoji_name", K_EMOJI_NAME),
    KEY("team", K_TEAM),
    KEY("channel", K_CHANNEL),
    KEY("replies", K_REPLIES),
    KEY("reactions", K_REACTIONS),
    KEY("last_viewed", K_LAST_VIEWED),
    KEY("unread_mentions", K_UNREAD_MENTIONS),
    KEY("thread_followers", K_THREAD_FOLLOWERS),
    KEY("channel_members", K_CHANNEL_MEMBERS),
    KEY("edit_at", K_EDIT_AT),
    KEY("type", K_TYPE),
    KEY("props", K_PROPS),
    KEY("flagged_by", K_FLAGGED_BY),
    KEY("attachments", K_ATTACHMENTS),
    KEY("is_pinned", K_IS_PINNED),
#undef KEY
};

/* The bit of a known key (exact bytes: Go's case-insensitive matches are declined), or 0. */
static inline unsigned key_bit(const Str *key) {
    for (size_t i = 0; i < sizeof KNOWN_KEYS / sizeof KNOWN_KEYS[0]; i++) {
        if (KNOWN_KEYS[i].len == key->len && memcmp(KNOWN_KEYS[i].name, key->start, (size_t)key->len) == 0)
            return KNOWN_KEYS[i].bit;
    }
    return 0;
}

/* Whether the server joins a path to data/ without changing it: no empty, "." or ".."
 * segment, no leading or trailing slash, unescaped (Go's path cleaning works on bytes: UTF-8
 * passes as it is). 1 for an ASCII path, 2 for one with non-ASCII bytes (its key is NFC:
 * Python's to compute), 0 for any other path (the general path's). */
static inline int path_kind(const Str *s) {
    if (s->escaped || s->len == 0 || s->len > MAX_PATH_BYTES) return 0;
    const unsigned char *p = s->start, *end = s->start + s->len;
    const unsigned char *segment = p;
    int kind = 1;
    for (; p <= end; p++) {
        if (p < end && *p >= 0x80) kind = 2;
        if (p == end || *p == '/') {
            Py_ssize_t n = p - segment;
            if (n == 0 || (n == 1 && segment[0] == '.') ||
                (n == 2 && segment[0] == '.' && segment[1] == '.'))
                return 0;
            segment = p + 1;
        }
    }
    return kind;
}

/* Whether the extension of a path or key (after its last dot, if no slash follows) holds
 * non-ASCII bytes: Go's lowercasing could make one an image's (".G\u0130F" is ".gif") and
 * differs from ASCII lowercasing, so such paths are Python's. */
static inline int non_ascii_extension(const char *key, size_t n) {
    for (size_t i = n; i > 0 && key[i - 1] != '/'; i--) {
        if (key[i - 1] == '.') {
            for (size_t j = i; j < n; j++)
                if ((unsigned char)key[j] >= 0x80) return 1;
            return 0;
        }
    }
    return 0;
}

/* A path the server joins to data/ unchanged whose key is itself (see path_kind): ASCII, or
 * UTF-8 that nfc_quick (_memberindex.h) knows to be NFC, with an ASCII extension. */
static inline int plain_path(const Str *s) {
    int kind = path_kind(s);
    return kind == 1 || (kind == 2 && nfc_quick(s->start, (size_t)s->len) &&
                         !non_ascii_extension((const char *)s->start, (size_t)s->len));
}

/* The envelope's start: 0 for a post line, 1 for a direct_post line (the cursor then on the
 * payload), -1 for any other line. Exports write the type first, exactly like this. */
static inline int envelope_start(Cur *c) {
    static const struct {
        const char *text;
        Py_ssize_t len;
    } prefixes[2] = {
        {POST_PREFIX, (Py_ssize_t)sizeof POST_PREFIX - 1},
        {DIRECT_PREFIX, (Py_ssize_t)sizeof DIRECT_PREFIX - 1},
    };
    for (int kind = 0; kind < 2; kind++) {
        if (c->end - c->p > prefixes[kind].len &&
            memcmp(c->p, prefixes[kind].text, (size_t)prefixes[kind].len) == 0) {
            c->p += prefixes[kind].len;
            skip_ws(c);
            return kind;
        }
    }
    return -1;
}

static inline Cur line_cursor(PyObject *raw) {
    const unsigned char *start = (const unsigned char *)PyBytes_AS_STRING(raw);
    Cur c = {start, start + PyBytes_GET_SIZE(raw)};
    return c;
}

/* After the payload: the envelope's closing brace and nothing else. */
static inline int envelope_end(Cur *c) {
    skip_ws(c);
    if (!open_container(c, '}')) return DECLINE;
    skip_ws(c);
    return c->p == c->end ? OK : DECLINE;
}

#define SKIP_DEPTH_MAX 64

/* Any JSON value, skipped. Numbers only in plain decimal (see scan_plain_number): orjson
 * reads a line like that exactly as written, so counting it here agrees with inspect's
 * Python path. */
static inline int skip_value(Cur *c, int depth) {
    Str ignored;
    int first = 1, r;
    if (c->p >= c->end || depth > SKIP_DEPTH_MAX) return DECLINE;
    switch (*c->p) {
        case '"':
            return scan_string(c, &ignored);
        case '{':
            c->p++;
            while ((r = member(c, &first, &ignored)) == OK) {
                if (skip_value(c, depth + 1) != OK) return DECLINE;
            }
            return r == END ? OK : DECLINE;
        case '[':
            c->p++;
            while ((r = next_element(c, &first)) == OK) {
                if (skip_value(c, depth + 1) != OK) return DECLINE;
            }
            return r == END ? OK : DECLINE;
        case 't':
            return literal(c, "true", 4) ? OK : DECLINE;
        case 'f':
            return literal(c, "false", 5) ? OK : DECLINE;
        case 'n':
            return literal(c, "null", 4) ? OK : DECLINE;
        default:
            return scan_plain_number(c);
    }
}

/* The (batch, start) arguments of an entry point that runs through a batch of lines: a list,
 * and an index from 0 to len(batch); 0 with an exception set otherwise. */
static inline int batch_start(PyObject *batch, PyObject *start_arg, const char *name, Py_ssize_t *start) {
    if (!PyList_Check(batch)) {
        PyErr_Format(PyExc_TypeError, "%s() needs a list of lines", name);
        return 0;
    }
    *start = PyLong_AsSsize_t(start_arg);
    if (*start == -1 && PyErr_Occurred()) return 0;
    if (*start < 0 || *start > PyList_GET_SIZE(batch)) {
        PyErr_Format(PyExc_IndexError, "%s() start out of range", name);
        return 0;
    }
    return 1;
}

static inline void jsonline_init(void) {
    for (int i = 0; i < 256; i++) string_class[i] = i < 0x20 ? 3 : (i >= 0x80 ? 4 : 0);
    string_class['"'] = 1;
    string_class['\\'] = 2;
}

#endif
