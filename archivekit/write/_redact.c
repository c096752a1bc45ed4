/*
 * archivekit.write._redact: `redact`'s post and direct_post lines rewritten in C.
 *
 * The contract (archivekit/write/redact.py, `RedactRun.line`): a line is rewritten here only
 * when the result is byte for byte what the Python walk writes — orjson's reading of the line
 * written back by orjson.dumps, every string replaced as the walk replaces it. So only lines
 * that already are in orjson's output form are taken: compact (no white space between tokens),
 * strings with exactly the escapes orjson writes (\" \\ \b \t \n \f \r and \u00xx for the other
 * control characters) or, in free text and messages, those Go's json.Marshal adds (\u0026 \u003c
 * \u003e, U+2028, U+2029: decoded, as orjson writes them, by decode_go_escapes) and valid UTF-8, integers of at most 18 digits (no floats, no -0), no
 * repeated key in an object, keys Go matches as written (lowercase ASCII where the spec looks
 * them up), at most MAX_DEPTH levels. Anything else returns None and the Python walk takes the
 * line from scratch.
 *
 * A line is read twice: once to decide whether it is taken (nothing is called back), then once
 * to write it. The pseudonym tables (`Pseudonyms.name`) change only in the second reading, so a
 * line handed to Python has changed nothing and the names are met in the walk's order.
 *
 * Words of free text (runs of characters Python's re calls [^\W_], i.e. str.isalnum) are mapped
 * through `Pseudonyms.word`, remembered here by their UTF-8 bytes (a pure function of the word;
 * the table is emptied past WORD_CACHE_MAX entries, words longer than WORD_CACHE_LEN are not
 * kept): memory stays bounded whatever the number of posts.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MAX_DEPTH 64
#define MAX_KEYS 64
#define WORD_CACHE_MAX 65536
#define WORD_CACHE_SLOTS (1u << 17)
#define WORD_CACHE_LEN 64

enum { OK = 0, NOT_TAKEN = -1, FAILED = -2 };

/* ASCII classes, by byte: a letter or digit; a byte a string holds as it is (not a quote, a
 * backslash, a control character or a byte of a longer UTF-8 sequence). */
enum { ALNUM = 1, PLAIN = 2 };
static unsigned char CLASS[256];

static void init_classes(void) {
    for (int b = 0x20; b < 0x80; b++)
        if (b != '"' && b != '\\') CLASS[b] |= PLAIN;
    for (int b = '0'; b <= '9'; b++) CLASS[b] |= ALNUM;
    for (int b = 'a'; b <= 'z'; b++) {
        CLASS[b] |= ALNUM;
        CLASS[b - 'a' + 'A'] |= ALNUM;
    }
}

#define HASH_START 1469598103934665603ULL
#define HASH_STEP(h, b) (((h) ^ (b)) * 1099511628211ULL)

/* --- the spec of post lines (redact.py's _REPLY and _POST) --------------------------------- */
typedef enum {
    S_KEEP, S_TEXT, S_MESSAGE, S_USER, S_TEAM, S_CHANNEL, S_EMOJI, S_PATH, S_ATTACHMENTS,
    S_LIST, S_OBJECT, S_PROPS, S_FLAG
} Kind;
enum { N_USER, N_TEAM, N_CHANNEL, N_EMOJI, N_KINDS };
static const char *const NAME_KIND[N_KINDS] = {"user", "team", "channel", "emoji"};

typedef struct Spec Spec;
typedef struct { const char *key; const Spec *spec; } Field;
struct Spec { Kind kind; const Spec *item; const Field *fields; };

static const Spec KEEP = {S_KEEP, NULL, NULL}, TEXT = {S_TEXT, NULL, NULL};
static const Spec MESSAGE = {S_MESSAGE, NULL, NULL}, USER = {S_USER, NULL, NULL};
static const Spec TEAM = {S_TEAM, NULL, NULL}, CHANNEL = {S_CHANNEL, NULL, NULL};
static const Spec EMOJI = {S_EMOJI, NULL, NULL}, PATH = {S_PATH, NULL, NULL};
static const Spec ATTACHMENTS = {S_ATTACHMENTS, NULL, NULL}, PROPS = {S_PROPS, NULL, NULL};
/* The keys of props kept as they are: redact.py's NATIVE_PROPS_KEYS, given to the Mapper (one
 * list, in Python). A line whose props hold any other key (mapped as free text or as the name it
 * is), or channel_mentions (whose keys are channel names), is left to the Python walk. */
typedef struct Mapper Mapper;
static int is_props_key(Mapper *m, const unsigned char *key, size_t n);
/* The value of a key of FLAG_KEYS (redact.py's PROPS_FLAG_KEYS: keep the two in step): the
 * strings "true" and "false" kept, any other text; objects and lists inside walked as props. */
static const Spec FLAG = {S_FLAG, NULL, NULL};
static const char *const FLAG_KEYS[] = {
    "from_webhook", "from_bot", "from_plugin", "from_oauth_app", NULL};

static int is_flag_key(const unsigned char *key, size_t n) {
    for (const char *const *k = FLAG_KEYS; *k != NULL; k++)
        if ((*k)[0] == key[0] && strncmp(*k, (const char *)key, n) == 0 && (*k)[n] == 0) return 1;
    return 0;
}
static const Spec USERS = {S_LIST, &USER, NULL};
static const Field PATH_FIELDS[] = {{"path", &PATH}, {NULL, NULL}};
static const Spec FILE_OBJECT = {S_OBJECT, NULL, PATH_FIELDS};
static const Field REACTION_FIELDS[] = {
    {"user", &USER}, {"emoji_name", &EMOJI}, {"create_at", &KEEP}, {NULL, NULL}};
static const Spec REACTION = {S_OBJECT, NULL, REACTION_FIELDS};
static const Spec REACTIONS = {S_LIST, &REACTION, NULL};
#define REPLY_FIELDS_ \
    {"user", &USER}, {"type", &KEEP}, {"message", &MESSAGE}, {"props", &PROPS}, \
    {"flagged_by", &USERS}, {"reactions", &REACTIONS}, {"attachments", &ATTACHMENTS}
static const Field REPLY_FIELDS[] = {REPLY_FIELDS_, {NULL, NULL}};
static const Spec REPLY = {S_OBJECT, NULL, REPLY_FIELDS};
static const Spec REPLIES = {S_LIST, &REPLY, NULL};
static const Field FOLLOWER_FIELDS[] = {{"user", &USER}, {NULL, NULL}};
static const Spec FOLLOWER = {S_OBJECT, NULL, FOLLOWER_FIELDS};
static const Spec FOLLOWERS = {S_LIST, &FOLLOWER, NULL};
#define POST_FIELDS_ \
    REPLY_FIELDS_, {"team", &TEAM}, {"channel", &CHANNEL}, {"replies", &REPLIES}, \
    {"thread_followers", &FOLLOWERS}
static const Field POST_FIELDS[] = {POST_FIELDS_, {NULL, NULL}};
static const Spec POST = {S_OBJECT, NULL, POST_FIELDS};
static const Field DIRECT_POST_FIELDS[] = {
    POST_FIELDS_, {"channel_members", &USERS}, {NULL, NULL}};
static const Spec DIRECT_POST = {S_OBJECT, NULL, DIRECT_POST_FIELDS};

/* --- the mapper ---------------------------------------------------------------------------- */
typedef struct {
    uint64_t hash;
    uint32_t key_len, value_len;
    int kind; /* -1: a word; else the kind of name */
    char *data; /* the key's bytes, then the value's (as written in a JSON string) */
} WordEntry;

struct Mapper {
    PyObject_HEAD
    PyObject *props_keys; /* a frozenset of str: the props keys kept (see is_props_key) */
    PyObject *word;  /* Pseudonyms.word */
    PyObject *name;  /* Pseudonyms.name */
    PyObject *path;  /* Pseudonyms.path */
    PyObject *spelled[N_KINDS]; /* spelling -> pseudonym, per kind (looked up, never changed) */
    PyObject *kind_names[N_KINDS];
    PyObject *post_type, *direct_post_type;
    int drop_references;
    WordEntry *words;
    size_t word_count;
    char *out;
    size_t out_len, out_cap;
    unsigned char *scratch; /* a string with Go's escapes decoded (see go_escape) */
    size_t scratch_cap;
};

static int is_props_key(Mapper *m, const unsigned char *key, size_t n) {
    /* A key as written (unescaped): bytes that are not UTF-8 name no kept key. */
    PyObject *text = PyUnicode_DecodeUTF8((const char *)key, (Py_ssize_t)n, NULL);
    if (text == NULL) {
        PyErr_Clear();
        return 0;
    }
    int found = PySet_Contains(m->props_keys, text);
    Py_DECREF(text);
    if (found < 0) {
        PyErr_Clear();
        return 0;
    }
    return found;
}

typedef struct {
    Mapper *m;
    const unsigned char *p, *end;
    int emit;
} Ctx;

static int put(Mapper *m, const void *data, size_t n) {
    if (m->out_len + n > m->out_cap) {
        size_t cap = m->out_cap ? m->out_cap : 4096;
        while (cap < m->out_len + n) cap *= 2;
        char *grown = PyMem_Realloc(m->out, cap);
        if (grown == NULL) {
            PyErr_NoMemory();
            return FAILED;
        }
        m->out = grown;
        m->out_cap = cap;
    }
    memcpy(m->out + m->out_len, data, n);
    m->out_len += n;
    return OK;
}

/* A str from Python written as orjson writes it inside a JSON string. */
static int put_escaped(Mapper *m, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "redact: a pseudonym is not a str");
        return FAILED;
    }
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(text, &n);
    if (s == NULL) return FAILED;
    Py_ssize_t start = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        if (put(m, s + start, i - start) < 0) return FAILED;
        char esc[8];
        int len = 2;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\t': esc[1] = 't'; break;
        case '\n': esc[1] = 'n'; break;
        case '\f': esc[1] = 'f'; break;
        case '\r': esc[1] = 'r'; break;
        default: len = snprintf(esc, sizeof esc, "\\u%04x", c);
        }
        if (put(m, esc, len) < 0) return FAILED;
        start = i + 1;
    }
    return put(m, s + start, n - start);
}

static void clear_words(Mapper *m) {
    if (m->words == NULL) return;
    for (size_t i = 0; i < WORD_CACHE_SLOTS; i++) {
        PyMem_Free(m->words[i].data);
        m->words[i].data = NULL;
    }
    m->word_count = 0;
}

/* One word (UTF-8 bytes of alphanumeric characters): `Pseudonyms.word`, written. */
static int map_word(Mapper *m, int kind, const unsigned char *s, size_t n) {
    (void)kind;
    PyObject *word = PyUnicode_DecodeUTF8((const char *)s, n, "strict");
    if (word == NULL) return FAILED;
    PyObject *mapped = PyObject_CallOneArg(m->word, word);
    Py_DECREF(word);
    if (mapped == NULL) return FAILED;
    Py_ssize_t len;
    const char *bytes = PyUnicode_Check(mapped) ? PyUnicode_AsUTF8AndSize(mapped, &len) : NULL;
    int rc = bytes == NULL ? FAILED : put(m, bytes, len);
    if (bytes == NULL && !PyErr_Occurred())
        PyErr_SetString(PyExc_TypeError, "redact: a word is not a str");
    Py_DECREF(mapped);
    return rc;
}

/* A name of one kind: `Pseudonyms.name` (its spellings looked up first), written. */
static int map_name(Mapper *m, int kind, const unsigned char *s, size_t n) {
    PyObject *value = PyUnicode_DecodeUTF8((const char *)s, n, "strict");
    if (value == NULL) return FAILED;
    PyObject *found = PyDict_GetItemWithError(m->spelled[kind], value);
    int rc;
    if (found != NULL) {
        rc = put_escaped(m, found);
    } else if (PyErr_Occurred()) {
        rc = FAILED;
    } else {
        PyObject *mapped = PyObject_CallFunctionObjArgs(m->name, m->kind_names[kind], value, NULL);
        rc = mapped == NULL ? FAILED : put_escaped(m, mapped);
        Py_XDECREF(mapped);
    }
    Py_DECREF(value);
    return rc;
}

typedef int (*MapFunction)(Mapper *m, int kind, const unsigned char *s, size_t n);

/* The pseudonym of s (a word: kind -1, or a name of a kind), written: from the cache, else
 * through `map` and then remembered. A pseudonym never changes once given (words are a pure
 * function of the key, a name's spelling keeps its first pseudonym), so a cached one is what
 * Python would answer. h: the HASH_STEPs of s. */
static int put_cached(Mapper *m, int kind, const unsigned char *s, size_t n, uint64_t h,
                      MapFunction map) {
    h = HASH_STEP(h, (unsigned)(kind + 1));
    h ^= h >> 29;
    size_t slot = h & (WORD_CACHE_SLOTS - 1);
    WordEntry *e = NULL;
    if (n <= WORD_CACHE_LEN) {
        for (;;) {
            e = &m->words[slot];
            if (e->data == NULL) break;
            if (e->hash == h && e->kind == kind && e->key_len == n && memcmp(e->data, s, n) == 0)
                return put(m, e->data + n, e->value_len);
            slot = (slot + 1) & (WORD_CACHE_SLOTS - 1);
        }
    }
    size_t before = m->out_len;
    int rc = map(m, kind, s, n);
    if (rc < 0 || e == NULL) return rc;
    size_t len = m->out_len - before;
    if (m->word_count >= WORD_CACHE_MAX) {
        clear_words(m);
        e = &m->words[h & (WORD_CACHE_SLOTS - 1)];
    }
    e->data = PyMem_Malloc(n + len);
    if (e->data != NULL) {
        memcpy(e->data, s, n);
        memcpy(e->data + n, m->out + before, len);
        e->hash = h;
        e->kind = kind;
        e->key_len = (uint32_t)n;
        e->value_len = (uint32_t)len;
        m->word_count++;
    }
    return OK;
}

static uint64_t hash_bytes(const unsigned char *s, size_t n) {
    uint64_t h = HASH_START;
    for (size_t i = 0; i < n; i++) h = HASH_STEP(h, s[i]);
    return h;
}

static int put_name(Mapper *m, int kind, const unsigned char *s, size_t n) {
    return put_cached(m, kind, s, n, hash_bytes(s, n), map_name);
}

/* --- UTF-8 and the characters Python's re calls words ---------------------------------------- */
/* The code point at s (valid UTF-8: checked by scan_string), and its length in *n. */
static Py_UCS4 decode(const unsigned char *s, int *n) {
    unsigned char c = s[0];
    if (c < 0x80) { *n = 1; return c; }
    if (c < 0xE0) { *n = 2; return ((Py_UCS4)(c & 0x1F) << 6) | (s[1] & 0x3F); }
    if (c < 0xF0) {
        *n = 3;
        return ((Py_UCS4)(c & 0x0F) << 12) | ((Py_UCS4)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    }
    *n = 4;
    return ((Py_UCS4)(c & 0x07) << 18) | ((Py_UCS4)(s[1] & 0x3F) << 12) |
           ((Py_UCS4)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
}

static inline int is_alnum(Py_UCS4 c) {
    if (c < 0x80) return CLASS[c] & ALNUM;
    return Py_UNICODE_ISALNUM(c);
}

/* The end of the word (a run of alphanumeric characters) that starts at p; *h its hash. */
static const unsigned char *word_end(const unsigned char *p, const unsigned char *end,
                                     uint64_t *h, Py_UCS4 *last) {
    uint64_t hash = HASH_START;
    while (p < end) {
        unsigned char b = *p;
        if (b < 0x80) {
            if (!(CLASS[b] & ALNUM)) break;
            *last = b;
            hash = HASH_STEP(hash, b);
            p++;
            continue;
        }
        int n;
        Py_UCS4 cp = decode(p, &n);
        if (!Py_UNICODE_ISALNUM(cp)) break;
        *last = cp;
        for (int i = 0; i < n; i++) hash = HASH_STEP(hash, p[i]);
        p += n;
    }
    *h = hash;
    return p;
}

/* The length of a valid escape as orjson writes it at s (after the backslash), else 0. */
static int canonical_escape(const unsigned char *s, const unsigned char *end) {
    if (s >= end) return 0;
    switch (*s) {
    case '"': case '\\': case 'b': case 't': case 'n': case 'f': case 'r': return 2;
    case 'u': break;
    default: return 0;
    }
    if (end - s < 5 || s[1] != '0' || s[2] != '0' || (s[3] != '0' && s[3] != '1')) return 0;
    unsigned char d = s[4];
    int v;
    if (d >= '0' && d <= '9') v = d - '0';
    else if (d >= 'a' && d <= 'f') v = d - 'a' + 10;
    else return 0;
    v += (s[3] - '0') * 16;
    if (v == '\b' || v == '\t' || v == '\n' || v == '\f' || v == '\r') return 0;
    return 6;
}

static int hex_digit(unsigned char d) {
    if (d >= '0' && d <= '9') return d - '0';
    if (d >= 'a' && d <= 'f') return d - 'a' + 10;
    if (d >= 'A' && d <= 'F') return d - 'A' + 10;
    return -1;
}

/* The character of an escape orjson does not write but Go's json.Marshal does, at s (after the
 * backslash): \u0026 \u003c \u003e (any printable ASCII but the quote and the backslash) and
 * \u2028 \u2029, which orjson writes as the characters themselves; else -1. */
static long go_escape(const unsigned char *s, const unsigned char *end) {
    if (end - s < 5 || s[0] != 'u') return -1;
    long v = 0;
    for (int i = 1; i <= 4; i++) {
        int d = hex_digit(s[i]);
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    if ((v >= 0x20 && v < 0x7f && v != '"' && v != '\\') || v == 0x2028 || v == 0x2029) return v;
    return -1;
}

/* [start, stop) (a string's content holding escapes of `go_escape`) written to m->scratch with
 * those escapes decoded: the content orjson would write. */
static int decode_go_escapes(Mapper *m, const unsigned char **start, const unsigned char **stop) {
    size_t n = *stop - *start;
    if (n > m->scratch_cap) {
        unsigned char *grown = PyMem_Realloc(m->scratch, n);
        if (grown == NULL) {
            PyErr_NoMemory();
            return FAILED;
        }
        m->scratch = grown;
        m->scratch_cap = n;
    }
    unsigned char *out = m->scratch;
    for (const unsigned char *p = *start; p < *stop;) {
        if (*p != '\\') {
            *out++ = *p++;
            continue;
        }
        long v = go_escape(p + 1, *stop);
        if (v < 0) { /* a canonical escape: as it is */
            int len = canonical_escape(p + 1, *stop);
            memcpy(out, p, len);
            out += len;
            p += len;
        } else if (v < 0x80) {
            *out++ = (unsigned char)v;
            p += 6;
        } else { /* U+2028, U+2029: three bytes of UTF-8 */
            *out++ = 0xE2;
            *out++ = 0x80;
            *out++ = (unsigned char)(0x80 | (v & 0x3F));
            p += 6;
        }
    }
    *start = m->scratch;
    *stop = out;
    return OK;
}

/* A string at c->p (its opening quote): checked to be in orjson's output form; [*start, *stop)
 * is its content; c->p moves past the closing quote. */
static int scan_string(Ctx *c, const unsigned char **start, const unsigned char **stop,
                       int *escaped) {
    const unsigned char *p = c->p + 1, *end = c->end;
    *start = p;
    *escaped = 0;
    while (p < end) {
        while (p < end && (CLASS[*p] & PLAIN)) p++;
        if (p >= end) break;
        unsigned char b = *p;
        if (b == '"') {
            *stop = p;
            c->p = p + 1;
            return OK;
        }
        if (b == '\\') {
            int n = canonical_escape(p + 1, end);
            if (n == 0) {
                if (go_escape(p + 1, end) < 0) return NOT_TAKEN;
                n = 6;
                *escaped |= 2; /* decoded by decode_go_escapes */
            }
            *escaped |= 1;
            p += n;
        } else if (b < 0x20) {
            return NOT_TAKEN;
        } else if (b < 0x80) {
            p++;
        } else {
            int n;
            Py_UCS4 min;
            if (b >= 0xC2 && b < 0xE0) { n = 2; min = 0x80; }
            else if (b >= 0xE0 && b < 0xF0) { n = 3; min = 0x800; }
            else if (b >= 0xF0 && b < 0xF5) { n = 4; min = 0x10000; }
            else return NOT_TAKEN;
            if (end - p < n) return NOT_TAKEN;
            for (int i = 1; i < n; i++)
                if ((p[i] & 0xC0) != 0x80) return NOT_TAKEN;
            int len;
            Py_UCS4 cp = decode(p, &len);
            if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return NOT_TAKEN;
            p += n;
        }
    }
    return NOT_TAKEN;
}

/* --- free text and messages ---------------------------------------------------------------- */
static inline int is_ascii_alnum(unsigned char b) { return CLASS[b] & ALNUM; }

static int is_word(Py_UCS4 c) { return c == '_' || is_alnum(c); }

/* `Pseudonyms.text` (each word mapped, everything between words, escapes too, kept) and, with
 * `message`, `Pseudonyms.message`: redact.py's _MESSAGE_RE scanned by hand — @mentions (not after
 * a word character, '@' or '.'), ~channel links (not after a word character or '~') and :emoji:
 * codes become names, the rest is text. */
static int put_words(Mapper *m, const unsigned char *p, const unsigned char *end, int message) {
    const unsigned char *kept = p;
    Py_UCS4 prev = '\n'; /* the start of the text: no character before it */
    while (p < end) {
        unsigned char b = *p;
        if (b == '\\') {
            p += canonical_escape(p + 1, end);
            prev = '\n'; /* a quote, backslash or control character: none of the above */
            continue;
        }
        if (message && ((b == '@' && !is_word(prev) && prev != '@' && prev != '.') ||
                        (b == '~' && !is_word(prev) && prev != '~'))) {
            /* The name: word characters (any script, as re's \w) and '-' ('.' too after '@'). */
            const unsigned char *run = p + 1, *q = run;
            Py_UCS4 last = 0;
            while (q < end && *q != '\\') {
                int n;
                Py_UCS4 cp = decode(q, &n);
                if (!(is_word(cp) || cp == '-' || (b == '@' && cp == '.'))) break;
                last = cp;
                q += n;
            }
            if (q > run) {
                if (put(m, kept, p + 1 - kept) < 0) return FAILED;
                const unsigned char *core = q;
                if (b == '@')
                    while (core > run && (core[-1] == '.' || core[-1] == '-' || core[-1] == '_'))
                        core--;
                if (core > run && put_name(m, b == '@' ? N_USER : N_CHANNEL, run, core - run) < 0)
                    return FAILED;
                kept = core;
                prev = last;
                p = q;
                continue;
            }
        } else if (message && b == ':') {
            const unsigned char *run = p + 1, *q = run;
            int alpha = 0;
            while (q < end && (is_ascii_alnum(*q) || *q == '+' || *q == '_' || *q == '-')) {
                alpha |= (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z');
                q++;
            }
            if (q > run && q < end && *q == ':') {
                if (put(m, kept, run - kept) < 0) return FAILED;
                if ((alpha ? put_name(m, N_EMOJI, run, q - run) : put_words(m, run, q, 0)) < 0)
                    return FAILED;
                kept = q; /* the closing ':' */
                prev = ':';
                p = q + 1;
                continue;
            }
        }
        int n;
        Py_UCS4 cp = decode(p, &n);
        if (!is_alnum(cp)) {
            prev = cp;
            p += n;
            continue;
        }
        if (put(m, kept, p - kept) < 0) return FAILED;
        const unsigned char *word = p;
        uint64_t h;
        p = word_end(p, end, &h, &prev);
        if (put_cached(m, -1, word, p - word, h, map_word) < 0) return FAILED;
        kept = p;
    }
    return put(m, kept, p - kept);
}

/* --- the walk ------------------------------------------------------------------------------ */
static int walk(Ctx *c, const Spec *spec, int depth);

static int copy(Ctx *c, const unsigned char *from) {
    return c->emit ? put(c->m, from, c->p - from) : OK;
}

static int number(Ctx *c) {
    const unsigned char *p = c->p, *from = p;
    if (*p == '-') p++;
    const unsigned char *digits = p;
    while (p < c->end && *p >= '0' && *p <= '9') p++;
    size_t n = p - digits;
    if (n == 0 || n > 18 || (*digits == '0' && (n > 1 || from != digits)))
        return NOT_TAKEN; /* not JSON, past what is sure to be an int64, or -0 */
    if (p < c->end && (*p == '.' || *p == 'e' || *p == 'E')) return NOT_TAKEN; /* a float */
    c->p = p;
    return copy(c, from);
}

static int literal(Ctx *c) {
    static const char *const words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(c->end - c->p) >= n && memcmp(c->p, words[i], n) == 0) {
            const unsigned char *from = c->p;
            c->p += n;
            return copy(c, from);
        }
    }
    return NOT_TAKEN;
}

/* Whether a message holds an '@' between characters of an address (before it an ASCII letter,
 * digit or one of "_.%+-", after it an ASCII letter, digit or '-'): such a line is left to the
 * Python walk, whose `Pseudonyms.message` maps addresses (pseudonyms._EMAIL_IN_TEXT, which
 * matches only around such an '@'). */
static int has_address(const unsigned char *p, const unsigned char *end) {
    for (const unsigned char *at = p; (at = memchr(at, '@', end - at)) != NULL; at++) {
        if (at == p || at + 1 >= end) continue;
        unsigned char before = at[-1], after = at[1];
        if ((is_ascii_alnum(before) || (before && strchr("_.%+-", before))) &&
            (is_ascii_alnum(after) || after == '-'))
            return 1;
    }
    return 0;
}

static int string_leaf(Ctx *c, const Spec *spec) {
    const unsigned char *from = c->p, *start, *stop;
    int escaped;
    if (scan_string(c, &start, &stop, &escaped) < 0) return NOT_TAKEN;
    Kind kind = spec->kind;
    if (kind == S_FLAG && !escaped &&
        ((stop - start == 4 && memcmp(start, "true", 4) == 0) ||
         (stop - start == 5 && memcmp(start, "false", 5) == 0)))
        kind = S_KEEP;
    if (kind == S_LIST || kind == S_OBJECT || kind == S_ATTACHMENTS || kind == S_PROPS ||
        kind == S_FLAG)
        kind = S_TEXT;
    int name = kind == S_USER ? N_USER : kind == S_TEAM ? N_TEAM
             : kind == S_CHANNEL ? N_CHANNEL : kind == S_EMOJI ? N_EMOJI : -1;
    if ((name >= 0 || kind == S_PATH) && escaped) return NOT_TAKEN;
    Mapper *m = c->m;
    if ((escaped & 2) && decode_go_escapes(m, &start, &stop) < 0) return FAILED;
    if (kind == S_MESSAGE && has_address(start, stop)) return NOT_TAKEN;
    if (!c->emit) return OK;
    if (kind == S_KEEP && !(escaped & 2)) return put(m, from, c->p - from);
    if (kind == S_KEEP) {
        int rc = put(m, "\"", 1);
        if (rc == OK) rc = put(m, start, stop - start);
        return rc < 0 ? rc : put(m, "\"", 1);
    }
    if (put(m, "\"", 1) < 0) return FAILED;
    int rc;
    if (name >= 0) {
        rc = put_name(m, name, start, stop - start);
    } else if (kind == S_PATH) {
        PyObject *value = PyUnicode_DecodeUTF8((const char *)start, stop - start, "strict");
        PyObject *mapped = value ? PyObject_CallOneArg(m->path, value) : NULL;
        rc = mapped ? put_escaped(m, mapped) : FAILED;
        Py_XDECREF(value);
        Py_XDECREF(mapped);
    } else if (kind == S_MESSAGE) {
        rc = put_words(m, start, stop, 1);
    } else {
        rc = put_words(m, start, stop, 0);
    }
    return rc < 0 ? rc : put(m, "\"", 1);
}

static const Spec *field_spec(const Spec *spec, const unsigned char *key, size_t n) {
    for (const Field *f = spec->fields; f->key != NULL; f++)
        if (f->key[0] == key[0] && strncmp(f->key, (const char *)key, n) == 0 && f->key[n] == 0)
            return f->spec;
    return &TEXT;
}

/* The opening bracket at c->p, and its closing one if it comes next: 1 (an empty container),
 * else 0. */
static int open_container(Ctx *c, unsigned char close) {
    int rc;
    if (c->emit && (rc = put(c->m, c->p, 1)) < 0) return rc;
    c->p++;
    if (c->p >= c->end || *c->p != close) return 0;
    c->p++;
    return c->emit && (rc = put(c->m, &close, 1)) < 0 ? rc : 1;
}

/* After a member or an element: 1 at the closing bracket, 0 at a comma. */
static int next_item(Ctx *c, unsigned char close) {
    int rc;
    if (c->p >= c->end) return NOT_TAKEN;
    unsigned char b = *c->p++;
    if (b != close && b != ',') return NOT_TAKEN;
    if (c->emit && (rc = put(c->m, &b, 1)) < 0) return rc;
    return b == close;
}

static int object(Ctx *c, const Spec *spec, int depth) {
    const unsigned char *keys[MAX_KEYS];
    size_t key_lens[MAX_KEYS];
    int count = 0;
    int rc = open_container(c, '}');
    if (rc != 0) return rc < 0 ? rc : OK;
    for (;;) {
        if (c->p >= c->end || *c->p != '"' || count == MAX_KEYS) return NOT_TAKEN;
        const unsigned char *from = c->p, *start, *stop;
        int escaped;
        if (scan_string(c, &start, &stop, &escaped) < 0 || (escaped & 2)) return NOT_TAKEN;
        size_t n = stop - start;
        for (int i = 0; i < count; i++)
            if (key_lens[i] == n && memcmp(keys[i], start, n) == 0) return NOT_TAKEN;
        keys[count] = start;
        key_lens[count++] = n;
        const Spec *child = spec;
        if (spec->kind == S_OBJECT) {
            /* Go folds keys onto the fields' lowercase names: only keys that are their own
             * folding are looked up here. */
            if (escaped) return NOT_TAKEN;
            for (const unsigned char *k = start; k < stop; k++)
                if (*k >= 0x80 || (*k >= 'A' && *k <= 'Z')) return NOT_TAKEN;
            child = field_spec(spec, start, n);
        } else if (spec->kind == S_PROPS) {
            if (escaped || n == 0 || !is_props_key(c->m, start, n)) return NOT_TAKEN;
            child = is_flag_key(start, n) ? &FLAG : &PROPS;
        }
        if (c->p >= c->end || *c->p != ':') return NOT_TAKEN;
        c->p++;
        if (c->emit && (rc = put(c->m, from, c->p - from)) < 0) return rc;
        if ((rc = walk(c, child, depth + 1)) < 0 || (rc = next_item(c, '}')) != 0)
            return rc < 0 ? rc : OK;
    }
}

static int array(Ctx *c, const Spec *item, int depth) {
    int rc = open_container(c, ']');
    if (rc != 0) return rc < 0 ? rc : OK;
    for (;;) {
        if ((rc = walk(c, item, depth + 1)) < 0 || (rc = next_item(c, ']')) != 0)
            return rc < 0 ? rc : OK;
    }
}

/* redact.py's `RedactRun._walk`, for the shapes this file takes. */
static int walk(Ctx *c, const Spec *spec, int depth) {
    if (depth > MAX_DEPTH || c->p >= c->end) return NOT_TAKEN;
    unsigned char b = *c->p;
    if (b == '"') return string_leaf(c, spec);
    if (b == '-' || (b >= '0' && b <= '9')) return number(c);
    if (b == 't' || b == 'f' || b == 'n') return literal(c);
    /* A container where the spec has a scalar (S_KEEP too: kept are scalars only) is free
     * text. */
    const Spec *inside = spec->kind == S_PROPS || spec->kind == S_FLAG ? &PROPS : &TEXT;
    if (b == '[') {
        if (spec->kind == S_LIST) return array(c, spec->item, depth);
        if (spec->kind == S_ATTACHMENTS) {
            if (c->m->drop_references) return NOT_TAKEN;
            return array(c, &FILE_OBJECT, depth);
        }
        return array(c, inside, depth);
    }
    if (b == '{') return object(c, spec->kind == S_OBJECT ? spec : inside, depth);
    return NOT_TAKEN;
}

/* The whole line: {"type": "post" | "direct_post", and that payload}, nothing else. */
static int line(Ctx *c, PyObject **type) {
    static const char TYPE[] = "{\"type\":\"";
    static const char POST_HEAD[] = "post\",\"post\":";
    static const char DIRECT_HEAD[] = "direct_post\",\"direct_post\":";
    const unsigned char *p = c->p;
    size_t n = c->end - p;
    if (n < sizeof TYPE || memcmp(p, TYPE, sizeof TYPE - 1) != 0 || c->end[-1] != '}')
        return NOT_TAKEN;
    const unsigned char *value = p + sizeof TYPE - 1;
    size_t rest = c->end - value, len;
    const Spec *payload;
    if (rest >= sizeof DIRECT_HEAD && memcmp(value, DIRECT_HEAD, sizeof DIRECT_HEAD - 1) == 0) {
        payload = &DIRECT_POST;
        len = sizeof DIRECT_HEAD - 1;
        *type = c->m->direct_post_type;
    } else if (rest >= sizeof POST_HEAD && memcmp(value, POST_HEAD, sizeof POST_HEAD - 1) == 0) {
        payload = &POST;
        len = sizeof POST_HEAD - 1;
        *type = c->m->post_type;
    } else {
        return NOT_TAKEN;
    }
    c->p = value + len;
    int rc;
    if (c->emit && (rc = put(c->m, p, c->p - p)) < 0) return rc;
    if (c->p >= c->end || *c->p != '{') return NOT_TAKEN;
    if ((rc = walk(c, payload, 1)) < 0) return rc;
    if (c->p + 1 != c->end) return NOT_TAKEN; /* another key, or something after */
    c->p++;
    return c->emit ? put(c->m, "}", 1) : OK;
}

/* One line (bytes) appended to the output, with `end` after it: OK, NOT_TAKEN (nothing
 * appended, no table changed) or FAILED. *type: "post" or "direct_post". */
static int take(Mapper *self, PyObject *raw, const char *end, PyObject **type) {
    Py_buffer view;
    if (PyObject_GetBuffer(raw, &view, PyBUF_SIMPLE) < 0) return FAILED;
    const unsigned char *start = view.buf;
    Ctx c = {self, start, start + view.len, 0};
    int rc = line(&c, type);
    if (rc == OK) {
        c.p = start;
        c.emit = 1;
        rc = line(&c, type);
        if (rc == NOT_TAKEN) {
            PyErr_SetString(PyExc_RuntimeError, "redact: a line taken was not written");
            rc = FAILED;
        }
        if (rc == OK) rc = put(self, end, strlen(end));
    }
    PyBuffer_Release(&view);
    return rc;
}

/* Mapper.line(raw) -> (type, redacted) | None */
static PyObject *mapper_line(Mapper *self, PyObject *raw) {
    PyObject *type = NULL;
    self->out_len = 0;
    int rc = take(self, raw, "", &type);
    if (rc == NOT_TAKEN) return Py_NewRef(Py_None);
    if (rc < 0) return NULL;
    PyObject *body = PyBytes_FromStringAndSize(self->out, self->out_len);
    if (body == NULL) return NULL;
    PyObject *result = PyTuple_Pack(2, type, body);
    Py_DECREF(body);
    return result;
}

/* Mapper.lines(batch, start) -> (block, stop, posts, direct_posts) */
static PyObject *mapper_lines(Mapper *self, PyObject *args) {
    PyObject *batch;
    Py_ssize_t i;
    if (!PyArg_ParseTuple(args, "O!n", &PyList_Type, &batch, &i)) return NULL;
    Py_ssize_t counts[2] = {0, 0};
    self->out_len = 0;
    for (; i < PyList_GET_SIZE(batch); i++) {
        PyObject *raw = PyList_GET_ITEM(batch, i), *type = NULL;
        if (!PyBytes_Check(raw)) break;
        int rc = take(self, raw, "\n", &type);
        if (rc == NOT_TAKEN) break;
        if (rc < 0) return NULL;
        counts[type == self->direct_post_type]++;
    }
    return Py_BuildValue("y#nnn", self->out, (Py_ssize_t)self->out_len, i, counts[0], counts[1]);
}

static int mapper_init(Mapper *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"word", "name", "path", "spelled", "drop_references", "props_keys",
                             NULL};
    PyObject *word, *name, *path, *spelled, *props_keys;
    int drop;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOO!pO", kwlist, &word, &name, &path,
                                     &PyDict_Type, &spelled, &drop, &props_keys))
        return -1;
    Py_XSETREF(self->props_keys, PyFrozenSet_New(props_keys));
    if (self->props_keys == NULL) return -1;
    Py_XSETREF(self->word, Py_NewRef(word));
    Py_XSETREF(self->name, Py_NewRef(name));
    Py_XSETREF(self->path, Py_NewRef(path));
    for (int i = 0; i < N_KINDS; i++) {
        PyObject *table = PyDict_GetItemString(spelled, NAME_KIND[i]);
        if (table == NULL || !PyDict_Check(table)) {
            PyErr_Format(PyExc_TypeError, "spelled needs a dict for %s", NAME_KIND[i]);
            return -1;
        }
        Py_XSETREF(self->spelled[i], Py_NewRef(table));
        Py_XSETREF(self->kind_names[i], PyUnicode_InternFromString(NAME_KIND[i]));
        if (self->kind_names[i] == NULL) return -1;
    }
    Py_XSETREF(self->post_type, PyUnicode_InternFromString("post"));
    Py_XSETREF(self->direct_post_type, PyUnicode_InternFromString("direct_post"));
    if (self->post_type == NULL || self->direct_post_type == NULL) return -1;
    self->drop_references = drop;
    if (self->words == NULL) {
        self->words = PyMem_Calloc(WORD_CACHE_SLOTS, sizeof(WordEntry));
        if (self->words == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    } else {
        clear_words(self);
    }
    return 0;
}

static int mapper_traverse(Mapper *self, visitproc visit, void *arg) {
    Py_VISIT(self->props_keys);
    Py_VISIT(self->word);
    Py_VISIT(self->name);
    Py_VISIT(self->path);
    for (int i = 0; i < N_KINDS; i++) Py_VISIT(self->spelled[i]);
    return 0;
}

static int mapper_clear(Mapper *self) {
    Py_CLEAR(self->props_keys);
    Py_CLEAR(self->word);
    Py_CLEAR(self->name);
    Py_CLEAR(self->path);
    for (int i = 0; i < N_KINDS; i++) {
        Py_CLEAR(self->spelled[i]);
        Py_CLEAR(self->kind_names[i]);
    }
    Py_CLEAR(self->post_type);
    Py_CLEAR(self->direct_post_type);
    return 0;
}

static void mapper_dealloc(Mapper *self) {
    PyObject_GC_UnTrack(self);
    mapper_clear(self);
    clear_words(self);
    PyMem_Free(self->words);
    PyMem_Free(self->out);
    PyMem_Free(self->scratch);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef mapper_methods[] = {
    {"line", (PyCFunction)mapper_line, METH_O,
     "line(raw) -> (type, redacted) | None: a post or direct_post line in orjson's form, "
     "redacted; None for any other line (the Python walk takes it)."},
    {"lines", (PyCFunction)mapper_lines, METH_VARARGS,
     "lines(batch, start) -> (block, stop, posts, direct_posts): batch[start:stop] redacted, "
     "each line ended by a newline; batch[stop] (if any) is the first line `line` would not "
     "take."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject MapperType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "archivekit.write._redact.Mapper",
    .tp_basicsize = sizeof(Mapper),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Mapper(word, name, path, spelled, drop_references, props_keys): post lines "
              "redacted in C.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)mapper_init,
    .tp_dealloc = (destructor)mapper_dealloc,
    .tp_traverse = (traverseproc)mapper_traverse,
    .tp_clear = (inquiry)mapper_clear,
    .tp_methods = mapper_methods,
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "archivekit.write._redact",
    "redact's post lines in C (see archivekit/write/redact.py).", -1, NULL, NULL, NULL, NULL,
    NULL,
};

#ifndef SOURCE_SHA256
#define SOURCE_SHA256 "unknown"
#endif

PyMODINIT_FUNC PyInit__redact(void) {
    init_classes();
    if (PyType_Ready(&MapperType) < 0) return NULL;
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL) return NULL;
    if (PyModule_AddStringConstant(module, "SOURCE_SHA256", SOURCE_SHA256) < 0 ||
        PyModule_AddObjectRef(module, "Mapper", (PyObject *)&MapperType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
