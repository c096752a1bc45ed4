/*
 * archivekit.check.fast._scan: the accept-only fast path for post and direct_post lines, in C.
 *
 * The same contract as archivekit/check/fast/fastpath.py (read that first): one pass over the raw line
 * decides whether the general path would report nothing at all for it. This version never
 * builds the parsed document: it walks the bytes once, checks JSON syntax, types, int64
 * ranges, escapes and UTF-8 as it goes, and creates Python objects only for the names it must
 * look up (the duplicate-post identity is digested from the bytes, see post_digest). It is at most as permissive as the Python
 * version (tests hold the two to the same verdicts); anything unusual returns None and the
 * general path handles the line from scratch. Escaped keys, a reference that only matches
 * after Go's lowercasing, nested props: all declined.
 *
 * Input is hostile: every read is bounds-checked against the end of the line, nothing is
 * written outside buffers sized from the input, and recursion is bounded by the fixed shape
 * (post -> replies -> reactions), never by the data.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "_identity.h"
#include "_jsonline.h"
#include "_memberindex.h"

/* Lines shorter than this cannot hold props over the 800,000-rune limit (fastpath.py). */
#define FLAT_PROPS_MAX_LINE 133333
#define EMOJI_NAME_MAX 64
#define MAX_PROPS_KEYS 32
/* The server saves at most this many files per post or reply (model.PostFileIdsMaxRunes):
 * a longer list is the general path's (too-many-files). */
#define MAX_FILES_PER_LIST 10
/* Files one line may resolve here; a line with more goes to the general path. */
#define MAX_FILES_PER_LINE 64

/* Characters of a reaction's emoji name: [a-zA-Z0-9+_-] */
static unsigned char emoji_char[256];

/* The largest file and the longest file list of a line or a batch: where, and how big. The
 * general path meets a line's lists in the order post, then replies; ties keep the first. */
typedef struct {
    unsigned long long value; /* 0: none yet */
    long long line;
    int direct;
    int reply; /* -1: the post's own list */
    int index; /* the file's position in its list (largest file only) */
} Where;

/* Attachment resolution (scan_batch's `files`; none: lines with files are declined). */
typedef struct {
    const MemberTable *table; /* NULL: a stream's members are not known yet (defer mode) */
    unsigned long long max_file_size;
    PyObject *image_extensions; /* a tuple of lowercase bytes, e.g. b".png" */
    PyObject *find_key; /* key (str) -> entry or -1, NFC first: for non-ASCII paths (or NULL) */
    size_t next; /* the entry after the last one found: tried first (member_table_find_next) */
} Files;

/* An image attachment of a line: the server reads its header (MaxImageResolution), which is
 * left to Python (once per entry); where it sits in the line, in the general path's terms. */
typedef struct {
    uint32_t member;
    int reply; /* -1: the post's own list */
    int index; /* its position in its list */
} Image;

/* An attachment of a line in defer mode, waiting for the members: its path (in the line)
 * and where it sits, in the general path's terms. */
typedef struct {
    const unsigned char *path;
    int len;
    int kind; /* path_kind */
    int reply; /* -1: the post's own list */
    int index;
} Waiting;

/* The files of one line, resolved (marked referenced only once the line is accepted), or in
 * defer mode waiting. Only the counts are reset per line (not the arrays): most lines have no
 * files. */
typedef struct {
    int found;
    int images;
    unsigned long long bytes;
    Where largest, most;
    uint32_t members[MAX_FILES_PER_LINE];
    Image image[MAX_FILES_PER_LINE];
    Waiting waiting[MAX_FILES_PER_LINE];
} LineFiles;

typedef struct {
    PyObject *users;
    PyObject *teams;
    PyObject *channels;
    PyObject *type_ok;
    Py_ssize_t max_post_size;
    int flat_props;
    long long replies;
    long long reactions;
    Files *files;
    int reply;     /* the reply being read, -1 for the post itself */
    LineFiles *lf; /* the line's files: its Accepted's */
} Ctx;

/* Whether `a` (met later in the line) replaces `b`: larger, or as large and earlier in the
 * general path's order (the post's own list first, then the replies', then by position); a
 * zero never, as in limits.Needs. */
static inline int takes_over(const Where *a, const Where *b) {
    if (a->value == 0) return 0; /* an empty file or list is never a maximum */
    if (a->value != b->value) return a->value > b->value;
    if (a->reply != b->reply) return a->reply < b->reply;
    return a->index < b->index;
}

/* identity_digest(data: bytes) -> int: XXH64 of `data` (for tests: C against xxhash). */
static PyObject *identity_digest(PyObject *module, PyObject *arg) {
    (void)module;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    uint64_t h = xxh64(view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLongLong(h);
}

#define POST_KEYS                                                                                  \
    (K_TEAM | K_CHANNEL | K_USER | K_TYPE | K_MESSAGE | K_PROPS | K_CREATE_AT | K_EDIT_AT |        \
     K_FLAGGED_BY | K_REACTIONS | K_REPLIES | K_ATTACHMENTS | K_IS_PINNED | K_THREAD_FOLLOWERS)
#define DIRECT_POST_KEYS ((POST_KEYS & ~(K_TEAM | K_CHANNEL)) | K_CHANNEL_MEMBERS)
#define REPLY_KEYS                                                                                 \
    (K_USER | K_TYPE | K_MESSAGE | K_PROPS | K_CREATE_AT | K_EDIT_AT | K_FLAGGED_BY | K_REACTIONS | \
     K_ATTACHMENTS | K_IS_PINNED)

/* --- values ------------------------------------------------------------------------------ */

/* A string value as a new Python str (DECLINE on anything else, including null). */
static int string_value(Cur *c, Str *s, PyObject **out) {
    if (scan_string(c, s) != OK) return DECLINE;
    *out = to_str(s);
    return *out == NULL ? FAIL : OK;
}

/* A username that must be a key of `users` exactly. */
static int known_user(Ctx *ctx, Cur *c, int allow_empty) {
    Str s;
    PyObject *name;
    int found = string_value(c, &s, &name);
    if (found != OK) return found;
    if (!allow_empty && s.len == 0) {
        Py_DECREF(name);
        return DECLINE;
    }
    found = PySequence_Contains(ctx->users, name);
    Py_DECREF(name);
    return found < 0 ? FAIL : (found ? OK : DECLINE);
}

static int optional_int64(Cur *c) {
    long long ignored;
    if (is_null(c)) return OK;
    return scan_int64(c, &ignored);
}

/* flagged_by: null or usernames all known exactly; `collect` (direct posts) keeps them for
 * the check against the channel members. */
static int flaggers(Ctx *ctx, Cur *c, PyObject *collect) {
    if (is_null(c)) return OK;
    if (!open_container(c, '[')) return DECLINE;
    int first = 1, r;
    while ((r = next_element(c, &first)) == OK) {
        Str s;
        PyObject *name;
        r = string_value(c, &s, &name);
        if (r != OK) return r;
        int found = PySequence_Contains(ctx->users, name);
        if (found == 1 && collect != NULL && PyList_Append(collect, name) < 0) found = -1;
        Py_DECREF(name);
        if (found != 1) return found < 0 ? FAIL : DECLINE;
    }
    return r == END ? OK : r;
}

/* props: null, {}, or (short lines only) an object of scalars with distinct plain keys. */
static int props(Ctx *ctx, Cur *c) {
    if (is_null(c)) return OK;
    if (!open_container(c, '{')) return DECLINE;
    Str keys[MAX_PROPS_KEYS];
    int count = 0, first = 1, r;
    while ((r = next_member(c, &first, &keys[count < MAX_PROPS_KEYS ? count : 0])) == OK) {
        if (!ctx->flat_props || count == MAX_PROPS_KEYS) return DECLINE;
        for (int i = 0; i < count; i++) {
            if (keys[i].len == keys[count].len &&
                memcmp(keys[i].start, keys[count].start, (size_t)keys[i].len) == 0)
                return DECLINE; /* a repeated key: Go keeps the last, the general path says so */
        }
        count++;
        Str ignored;
        if (at(c, '"')) {
            if (scan_string(c, &ignored) != OK) return DECLINE;
        } else if (at(c, 't')) {
            if (!literal(c, "true", 4)) return DECLINE;
        } else if (at(c, 'f')) {
            if (!literal(c, "false", 5)) return DECLINE;
        } else if (at(c, 'n')) {
            if (!literal(c, "null", 4)) return DECLINE;
        } else if (scan_plain_number(c) != OK) {
            return DECLINE;
        }
    }
    return r == END ? OK : r;
}

/* Whether a member key names an image by its extension (the server then checks its pixels:
 * archivekit.gosem.images.is_image_name), for an ASCII extension. */
static int image_name(const Files *files, const char *key, size_t n) {
    size_t dot = n;
    while (dot > 0 && key[dot - 1] != '.' && key[dot - 1] != '/') dot--;
    if (dot == 0 || key[dot - 1] != '.') return 0;
    dot--;
    size_t len = n - dot;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(files->image_extensions); i++) {
        PyObject *ext = PyTuple_GET_ITEM(files->image_extensions, i);
        if (!PyBytes_Check(ext) || (size_t)PyBytes_GET_SIZE(ext) != len) continue;
        const char *e = PyBytes_AS_STRING(ext);
        size_t j = 0;
        while (j < len) {
            char k = key[dot + j];
            if (k >= 'A' && k <= 'Z') k = (char)(k + 32);
            if (k != e[j]) break;
            j++;
        }
        if (j == len) return 1;
    }
    return 0;
}

/* The entry the server finds for a non-ASCII key, or -1; -2 with an exception set. A key
 * nfc_quick vouches for is its own NFC form: looked up here; others are Python's (NFC, then
 * the index). Either moves the next lookup's first try on, as an ASCII key's does. */
static int64_t find_non_ascii(Files *files, const char *key, size_t n) {
    if (files->find_key == NULL) return -1;
    if (nfc_quick((const unsigned char *)key, n))
        return member_table_find_next(files->table, &files->next, key, n);
    PyObject *text = PyUnicode_DecodeUTF8(key, (Py_ssize_t)n, "strict");
    if (text == NULL) return -2;
    PyObject *found = PyObject_CallOneArg(files->find_key, text);
    Py_DECREF(text);
    if (found == NULL) return -2;
    long long v = PyLong_AsLongLong(found);
    Py_DECREF(found);
    if (v == -1 && PyErr_Occurred()) return -2;
    if (v < 0 || (size_t)v >= files->table->count) return -1;
    files->next = (size_t)v + 1;
    return (int64_t)v;
}

static int resolve(Files *files, LineFiles *lf, const unsigned char *path, size_t len,
                   int kind, int reply, int index);

/* One attachment {"path": ...} at position `index` of the current list: its file must
 * resolve, as the server resolves it, to a member the server can read, not over MaxFileSize;
 * anything else declines the line. An image is noted for its header to be read (Python). */
static int attachment(Ctx *ctx, Cur *c, int index) {
    Files *files = ctx->files;
    LineFiles *lf = ctx->lf;
    if (!open_container(c, '{')) return DECLINE;
    int member_first = 1, m, seen = 0, kind = 0;
    Str key, path;
    while ((m = next_member(c, &member_first, &key)) == OK) {
        if (seen || key.len != 4 || memcmp(key.start, "path", 4) != 0) return DECLINE;
        seen = 1;
        if (scan_string(c, &path) != OK || (kind = path_kind(&path)) == 0) return DECLINE;
    }
    if (m != END || !seen || lf->found == MAX_FILES_PER_LINE) return DECLINE;
    if (files->table == NULL) { /* defer mode: the shape only, resolved when the members are known */
        lf->waiting[lf->found++] = (Waiting){path.start, (int)path.len, kind, ctx->reply, index};
        return OK;
    }
    return resolve(files, lf, path.start, (size_t)path.len, kind, ctx->reply, index);
}

/* The member a path of `kind` (path_kind) at position `index` of list `reply` resolves to,
 * added to the line's files: OK, DECLINE (the general path's: missing, unreadable, too
 * large...) or FAIL. */
static int resolve(Files *files, LineFiles *lf, const unsigned char *path, size_t len,
                   int kind, int reply, int index) {
    char buf[5 + MAX_PATH_BYTES];
    memcpy(buf, "data/", 5);
    memcpy(buf + 5, path, len);
    size_t n = 5 + len;
    int64_t found;
    if (kind == 1) {
        found = member_table_find_next(files->table, &files->next, buf, n);
    } else {
        if (non_ascii_extension(buf, n)) return DECLINE;
        found = find_non_ascii(files, buf, n);
        if (found == -2) return FAIL;
    }
    if (found < 0) return DECLINE;
    const MemberRecord *r = &files->table->records[found];
    if ((r->bits & (MB_DIR | MB_ENCRYPTED)) || (r->method != 0 && r->method != 8) ||
        r->size > files->max_file_size)
        return DECLINE;
    if (image_name(files, buf, n)) lf->image[lf->images++] = (Image){(uint32_t)found, reply, index};
    lf->members[lf->found++] = (uint32_t)found;
    lf->bytes += r->size;
    Where here = {r->size, 0, 0, reply, index};
    if (takes_over(&here, &lf->largest)) lf->largest = here;
    return OK;
}

/* attachments: null, [], or (with `files`) up to ten files that all resolve. */
static int attachments(Ctx *ctx, Cur *c) {
    if (is_null(c)) return OK;
    if (!open_container(c, '[')) return DECLINE;
    int first = 1, r, count = 0;
    while ((r = next_element(c, &first)) == OK) {
        if (ctx->files == NULL || count == MAX_FILES_PER_LIST) return DECLINE;
        r = attachment(ctx, c, count);
        if (r != OK) return r;
        count++;
    }
    if (r != END) return r;
    Where here = {(unsigned long long)count, 0, 0, ctx->reply, 0};
    if (count > 0 && takes_over(&here, &ctx->lf->most)) ctx->lf->most = here;
    return OK;
}

static int is_pinned(Cur *c) {
    if (is_null(c)) return OK;
    if (at(c, 't')) return literal(c, "true", 4) ? OK : DECLINE;
    return literal(c, "false", 5) ? OK : DECLINE;
}

/* reactions: each {user, emoji_name, create_at}, all present, the user known exactly, a
 * valid emoji name, create_at > 0; *min_create_at tracks the earliest for the caller. */
static int reactions(Ctx *ctx, Cur *c, long long *min_create_at) {
    if (is_null(c)) return OK;
    if (!open_container(c, '[')) return DECLINE;
    int first = 1, r;
    while ((r = next_element(c, &first)) == OK) {
        if (!open_container(c, '{')) return DECLINE;
        unsigned seen = 0;
        int member_first = 1, m;
        Str key;
        while ((m = next_member(c, &member_first, &key)) == OK) {
            unsigned bit = key_bit(&key);
            if (!(bit & (K_USER | K_EMOJI_NAME | K_CREATE_AT)) || (seen & bit)) return DECLINE;
            seen |= bit;
            if (bit == K_USER) {
                if ((m = known_user(ctx, c, 1)) != OK) return m;
            } else if (bit == K_EMOJI_NAME) {
                Str name;
                if (scan_string(c, &name) != OK || name.escaped || name.len == 0 ||
                    name.len > EMOJI_NAME_MAX)
                    return DECLINE;
                for (Py_ssize_t i = 0; i < name.len; i++)
                    if (!emoji_char[name.start[i]]) return DECLINE;
            } else {
                long long created;
                if (scan_int64(c, &created) != OK || created <= 0) return DECLINE;
                if (created < *min_create_at) *min_create_at = created;
            }
        }
        if (m != END) return m;
        if (seen != (K_USER | K_EMOJI_NAME | K_CREATE_AT)) return DECLINE;
        ctx->reactions++;
    }
    return r == END ? OK : r;
}

/* thread_followers: each {user, last_viewed?, unread_mentions?}, the user known exactly. */
static int followers(Ctx *ctx, Cur *c) {
    if (is_null(c)) return OK;
    if (!open_container(c, '[')) return DECLINE;
    int first = 1, r;
    while ((r = next_element(c, &first)) == OK) {
        if (!open_container(c, '{')) return DECLINE;
        unsigned seen = 0;
        int member_first = 1, m;
        Str key;
        while ((m = next_member(c, &member_first, &key)) == OK) {
            unsigned bit = key_bit(&key);
            if (!(bit & (K_USER | K_LAST_VIEWED | K_UNREAD_MENTIONS)) || (seen & bit)) return DECLINE;
            seen |= bit;
            m = bit == K_USER ? known_user(ctx, c, 0) : optional_int64(c);
            if (m != OK) return m;
        }
        if (m != END) return m;
        if (!(seen & K_USER)) return DECLINE;
    }
    return r == END ? OK : r;
}

/* What one post-like object (post, direct post or reply) leaves for its caller. */
typedef struct {
    long long create_at;
    Str message;
    PyObject *team;     /* posts */
    PyObject *channel;  /* posts */
    PyObject *members;  /* direct posts: a list of str */
    PyObject *flagged;  /* direct posts: a list of str */
} Post;

static void post_clear(Post *post) {
    Py_CLEAR(post->team);
    Py_CLEAR(post->channel);
    Py_CLEAR(post->members);
    Py_CLEAR(post->flagged);
}

static int replies(Ctx *ctx, Cur *c, long long *min_create_at);

static int channel_members(Ctx *ctx, Cur *c, Post *post) {
    if (!open_container(c, '[')) return DECLINE;
    post->members = PyList_New(0);
    if (post->members == NULL) return FAIL;
    int first = 1, r;
    while ((r = next_element(c, &first)) == OK) {
        Str s;
        PyObject *name;
        if (PyList_GET_SIZE(post->members) == 8) return DECLINE;
        r = string_value(c, &s, &name);
        if (r != OK) return r;
        int found = PySequence_Contains(ctx->users, name);
        if (found == 1 && PyList_Append(post->members, name) < 0) found = -1;
        Py_DECREF(name);
        if (found != 1) return found < 0 ? FAIL : DECLINE;
    }
    if (r != END) return r;
    Py_ssize_t n = PyList_GET_SIZE(post->members);
    if (n < 2) return DECLINE;
    /* A group (3 or more) that lists a user twice fails on the server (createGroupChannel's
     * bad_user): the general path reports it. Twice the same user of two is a self-DM. */
    for (Py_ssize_t i = 1; n > 2 && i < n; i++)
        for (Py_ssize_t j = 0; j < i; j++) {
            int same = PyUnicode_Compare(PyList_GET_ITEM(post->members, i),
                                         PyList_GET_ITEM(post->members, j));
            if (same == 0) return DECLINE;
            if (same == -1 && PyErr_Occurred()) return FAIL;
        }
    return OK;
}

/* One post-like object at the cursor; `allowed` is its key set. The caller owns `post`'s
 * references whatever the result. */
static int post_object(Ctx *ctx, Cur *c, unsigned allowed, Post *post) {
    if (!open_container(c, '{')) return DECLINE;
    unsigned seen = 0;
    long long min_child = INT64_MAX;
    int first = 1, r;
    Str key;
    while ((r = next_member(c, &first, &key)) == OK) {
        unsigned bit = key_bit(&key);
        if (!(bit & allowed) || (seen & bit)) return DECLINE;
        seen |= bit;
        Str s;
        switch (bit) {
            case K_TEAM:
                r = string_value(c, &s, &post->team);
                break;
            case K_CHANNEL:
                r = string_value(c, &s, &post->channel);
                break;
            case K_USER:
                r = known_user(ctx, c, 1);
                break;
            case K_TYPE:
                if (is_null(c)) {
                    r = OK;
                } else {
                    PyObject *type, *verdict;
                    r = string_value(c, &s, &type);
                    if (r != OK) break;
                    verdict = PyObject_CallOneArg(ctx->type_ok, type);
                    Py_DECREF(type);
                    if (verdict == NULL) return FAIL;
                    r = PyObject_IsTrue(verdict);
                    Py_DECREF(verdict);
                    r = r < 0 ? FAIL : (r ? OK : DECLINE);
                }
                break;
            case K_MESSAGE:
                r = scan_string(c, &post->message);
                if (r == OK && post->message.runes > ctx->max_post_size) r = DECLINE;
                break;
            case K_PROPS:
                r = props(ctx, c);
                break;
            case K_CREATE_AT:
                r = scan_int64(c, &post->create_at);
                if (r == OK && post->create_at == 0) r = DECLINE;
                break;
            case K_EDIT_AT:
                r = optional_int64(c);
                break;
            case K_FLAGGED_BY:
                if (allowed & K_CHANNEL_MEMBERS) {
                    post->flagged = PyList_New(0);
                    if (post->flagged == NULL) return FAIL;
                }
                r = flaggers(ctx, c, post->flagged);
                break;
            case K_REACTIONS:
                r = reactions(ctx, c, &min_child);
                break;
            case K_REPLIES:
                r = replies(ctx, c, &min_child);
                break;
            case K_ATTACHMENTS:
                r = attachments(ctx, c);
                break;
            case K_IS_PINNED:
                r = is_pinned(c);
                break;
            case K_THREAD_FOLLOWERS:
                r = followers(ctx, c);
                break;
            case K_CHANNEL_MEMBERS:
                r = channel_members(ctx, c, post);
                break;
            default:
                r = DECLINE;
        }
        if (r != OK) return r;
    }
    if (r != END) return r;
    unsigned required = K_USER | K_MESSAGE | K_CREATE_AT | (allowed & (K_TEAM | K_CHANNEL | K_CHANNEL_MEMBERS));
    if ((seen & required) != required) return DECLINE;
    /* Reactions and replies older than their post: the general path has something to say. */
    return min_child >= post->create_at ? OK : DECLINE;
}

static int replies(Ctx *ctx, Cur *c, long long *min_create_at) {
    if (is_null(c)) return OK;
    if (!open_container(c, '[')) return DECLINE;
    int first = 1, r;
    while ((r = next_element(c, &first)) == OK) {
        Post reply = {0};
        ctx->reply = (int)ctx->replies;
        r = post_object(ctx, c, REPLY_KEYS, &reply);
        ctx->reply = -1;
        post_clear(&reply);
        if (r != OK) return r;
        if (reply.create_at < *min_create_at) *min_create_at = reply.create_at;
        ctx->replies++;
    }
    return r == END ? OK : r;
}

/* What an accepted line leaves for the engine (archivekit/check/engine.py). */
typedef struct {
    uint64_t identity; /* post_identity("post", team, channel, create_at, message) or
                          post_identity("direct", *sorted(members), create_at, message) */
    Py_ssize_t runes;
    long long replies;
    long long reactions;
    LineFiles lf;
} Accepted;

/* The duplicate-post identity of an accepted post (see archivekit/check/duplicates.py). */
static int post_digest(const Post *post, int direct, uint64_t *out) {
    Encoding e;
    encoding_init(&e);
    int r = OK;
    if (direct) {
        r = identity_bytes(&e, "direct", 6);
        if (r == OK && PyList_Sort(post->members) < 0) r = FAIL;
        for (Py_ssize_t i = 0; r == OK && i < PyList_GET_SIZE(post->members); i++)
            r = identity_str(&e, PyList_GET_ITEM(post->members, i));
    } else {
        r = identity_bytes(&e, "post", 4);
        if (r == OK) r = identity_str(&e, post->team);
        if (r == OK) r = identity_str(&e, post->channel);
    }
    if (r == OK) r = identity_int(&e, post->create_at);
    if (r == OK) r = identity_raw(&e, &post->message);
    if (r == OK) *out = xxh64(e.data, e.len);
    encoding_free(&e);
    return r;
}

/* A line's images in the general path's order (the post's own list, then each reply's, each
 * by position), whatever the order of the keys in the line: insertion sort (at most 64). */
static void sort_images(LineFiles *lf) {
    for (int i = 1; i < lf->images; i++) {
        Image x = lf->image[i];
        int j = i;
        while (j > 0 && (lf->image[j - 1].reply > x.reply ||
                         (lf->image[j - 1].reply == x.reply && lf->image[j - 1].index > x.index))) {
            lf->image[j] = lf->image[j - 1];
            j--;
        }
        lf->image[j] = x;
    }
}

/* One line of `line_size` bytes whose envelope `c` has passed (`direct` as envelope_start
 * said): OK with *acc filled, DECLINE, or FAIL. */
static int scan_one(const Ctx *base, Cur c, Py_ssize_t line_size, int direct, Accepted *acc) {
    Ctx ctx = *base;
    ctx.flat_props = line_size < FLAT_PROPS_MAX_LINE;
    ctx.replies = ctx.reactions = 0;
    ctx.reply = -1;
    LineFiles *lf = ctx.lf = &acc->lf;
    lf->found = lf->images = 0;
    lf->bytes = 0;
    memset(&lf->largest, 0, sizeof lf->largest);
    memset(&lf->most, 0, sizeof lf->most);
    Post post = {0};

    int r = post_object(&ctx, &c, direct ? DIRECT_POST_KEYS : POST_KEYS, &post);
    if (r == OK) r = envelope_end(&c);
    if (r == OK && !direct) {
        r = PyDict_Contains(ctx.teams, post.team);
        if (r == 1) {
            PyObject *place = PyTuple_Pack(2, post.team, post.channel);
            r = place == NULL ? -1 : PyDict_Contains(ctx.channels, place);
            Py_XDECREF(place);
        }
        r = r < 0 ? FAIL : (r ? OK : DECLINE);
    }
    if (r == OK && direct && post.flagged != NULL) {
        /* The validator's unknown_flagger: a flagger must be one of the channel members. */
        for (Py_ssize_t i = 0; r == OK && i < PyList_GET_SIZE(post.flagged); i++) {
            int found = PySequence_Contains(post.members, PyList_GET_ITEM(post.flagged, i));
            r = found < 0 ? FAIL : (found ? OK : DECLINE);
        }
    }
    if (r == OK) r = post_digest(&post, direct, &acc->identity);
    if (r == OK) {
        acc->runes = post.message.runes;
        acc->replies = ctx.replies;
        acc->reactions = ctx.reactions;
        sort_images(lf);
    }
    post_clear(&post);
    return r;
}

/* The arguments both entry points share, from args[first] on:
 * users, teams, channels, type_ok, max_post_size. */
static int read_context(PyObject *const *args, Ctx *ctx) {
    ctx->users = args[0];
    ctx->teams = args[1];
    ctx->channels = args[2];
    ctx->type_ok = args[3];
    if (!PyDict_Check(ctx->teams) || !PyDict_Check(ctx->channels)) {
        PyErr_SetString(PyExc_TypeError, "teams and channels must be dicts");
        return 0;
    }
    ctx->max_post_size = PyLong_AsSsize_t(args[4]);
    return !(ctx->max_post_size == -1 && PyErr_Occurred());
}

/* `files` of scan and scan_batch: None (lines with files are declined), or
 * (MemberTable capsule, max_file_size, image extensions, find_key or None): see
 * archivekit/check/fast/fastpath.py; scan_batch also takes (None, 0, (), None), defer mode:
 * a stream's attachments are checked for their shape only (fastpath.DEFER_FILES). */
static int read_files(PyObject *arg, Files *files, Files **out) {
    *out = NULL;
    if (arg == Py_None) return 1;
    if (!PyTuple_Check(arg) || PyTuple_GET_SIZE(arg) != 4 || !PyTuple_Check(PyTuple_GET_ITEM(arg, 2))) {
        PyErr_SetString(PyExc_TypeError,
                        "files must be None or (table, max_size, extensions, find_key)");
        return 0;
    }
    files->find_key = PyTuple_GET_ITEM(arg, 3) == Py_None ? NULL : PyTuple_GET_ITEM(arg, 3);
    if (PyTuple_GET_ITEM(arg, 0) == Py_None) {
        files->table = NULL;
    } else {
        files->table = PyCapsule_GetPointer(PyTuple_GET_ITEM(arg, 0), MEMBER_TABLE_CAPSULE);
        if (files->table == NULL) return 0;
    }
    files->max_file_size = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(arg, 1));
    if (files->max_file_size == (unsigned long long)-1 && PyErr_Occurred()) return 0;
    files->image_extensions = PyTuple_GET_ITEM(arg, 2);
    files->next = 0;
    *out = files;
    return 1;
}

/* A line's files as scan returns them: ((member, ...), bytes, (size, reply, index),
 * (count, reply), ((reply, index, member), ...)) — the largest file and the longest list,
 * first in the general path's order (sizes 0 when none), and the images in that order. */
static PyObject *line_files(const LineFiles *lf) {
    PyObject *members = PyTuple_New(lf->found);
    PyObject *images = PyTuple_New(lf->images);
    if (members == NULL || images == NULL) goto fail;
    for (int i = 0; i < lf->found; i++) {
        PyObject *v = PyLong_FromUnsignedLong(lf->members[i]);
        if (v == NULL) goto fail;
        PyTuple_SET_ITEM(members, i, v);
    }
    for (int i = 0; i < lf->images; i++) {
        const Image *m = &lf->image[i];
        PyObject *v = Py_BuildValue("(iik)", m->reply, m->index, (unsigned long)m->member);
        if (v == NULL) goto fail;
        PyTuple_SET_ITEM(images, i, v);
    }
    return Py_BuildValue("(NK(Kii)(Ki)N)", members, lf->bytes, lf->largest.value,
                         lf->largest.reply, lf->largest.index, lf->most.value, lf->most.reply,
                         images);
fail:
    Py_XDECREF(members);
    Py_XDECREF(images);
    return NULL;
}

/* scan(raw, direct, users, teams, channels, type_ok, max_post_size, files)
 *   -> None to decline, or (identity, message runes, replies, reactions, files) with files as
 *   line_files gives them. */
static PyObject *scan(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    Ctx ctx = {0};
    Accepted acc = {0};
    Files files;
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "scan() takes 8 arguments");
        return NULL;
    }
    if (!PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "scan() needs the line as bytes");
        return NULL;
    }
    int direct = PyObject_IsTrue(args[1]);
    if (direct < 0 || !read_context(args + 2, &ctx) || !read_files(args[7], &files, &ctx.files))
        return NULL;
    if (ctx.files != NULL && files.table == NULL) {
        PyErr_SetString(PyExc_TypeError, "scan() resolves files: defer mode is scan_batch's");
        return NULL;
    }
    Cur c = line_cursor(args[0]);
    int r = envelope_start(&c) == direct ? scan_one(&ctx, c, PyBytes_GET_SIZE(args[0]), direct, &acc)
                                         : DECLINE;
    if (r == FAIL) return NULL;
    if (r == DECLINE) Py_RETURN_NONE;
    return Py_BuildValue("(KnLLN)", (unsigned long long)acc.identity, acc.runes, acc.replies,
                         acc.reactions, line_files(&acc.lf));
}

/* scan_batch(batch, start, first_line, users, teams, channels, type_ok, max_post_size, files)
 *
 * Scans batch[start:] (line numbers from first_line for batch[0]) for as long as the lines
 * are post or direct_post lines the fast path accepts, and stops at the first other one (a
 * definition, a declined post, line 1, an over-long line) for the general path to handle.
 *
 * Returns (stop, posts, direct_posts, replies, reactions, longest_runes, longest_line,
 * longest_is_direct, identities, lines, files): identities and lines as packed native uint64,
 * one pair per accepted line; the longest message is the first line to reach the maximum.
 * `files` is None when the accepted lines had none, else (count, bytes, (size, line, direct,
 * reply, index), (count, line, direct, reply), members, images): the largest file and the
 * longest list, each the first to reach its maximum, the entries used, packed as native uint32
 * (in line order, repeats included), and the image attachments whose headers the server reads,
 * IMAGE_FIELDS native int64 each (line, direct, reply, index, member) in the general path's
 * order, or None when there are none.
 *
 * A stream's two passes (archivekit/check/engine.py): in defer mode (`files` (None, 0, (), None))
 * attachments are only checked for their shape, and `files` is None or, for the accepted lines
 * that have some, (count, longest, waiting, raws): their number of files; the lines whose
 * longest list is longer than every earlier one's of the batch, LONGEST_FIELDS native int64
 * each (line, direct, count, reply); their attachments, WAITING records each (see
 * resolve_waiting), for their files to be resolved once the members are known; and the lines
 * themselves, one after the other (the general path's, for those whose files do not resolve).
 * `first_line` may also be the lines' numbers (native int64, one per line of `batch`): lines
 * that are not consecutive. */
#define IMAGE_FIELDS 5
#define LONGEST_FIELDS 4

/* Room in *records (*cap records of `fields` int64 each, `count` used) for `more`: 0 with
 * MemoryError set when it cannot grow. */
static int grow_records(int64_t **records, size_t *cap, size_t count, size_t more, size_t fields) {
    if (count + more <= *cap) return 1;
    size_t n = *cap ? *cap * 2 : 256;
    while (n < count + more) n *= 2;
    int64_t *grown = PyMem_Realloc(*records, n * fields * sizeof **records);
    if (grown == NULL) {
        PyErr_NoMemory();
        return 0;
    }
    *records = grown;
    *cap = n;
    return 1;
}

/* A waiting line's record (defer mode): this header, then per attachment a WaitingFile and
 * its path's bytes. The line itself is `raw_len` bytes at `raw_at` of the raws. */
typedef struct {
    int64_t line;
    int64_t raw_at;
    int32_t raw_len;
    int32_t direct;
    int32_t found;
    int32_t size; /* the whole record's bytes */
    int32_t most; /* the longest list, and its reply (-1: the post's own) */
    int32_t most_reply;
} WaitingLine;

typedef struct {
    int32_t kind;
    int32_t reply;
    int32_t index;
    int32_t len;
} WaitingFile;

static int put_waiting(ByteColumn *waiting, ByteColumn *raws, long long line, int direct,
                       const LineFiles *lf, PyObject *raw) {
    WaitingLine head = {line, (int64_t)raws->len, (int32_t)PyBytes_GET_SIZE(raw), direct, lf->found,
                        (int32_t)sizeof head, (int32_t)lf->most.value, lf->most.reply};
    for (int k = 0; k < lf->found; k++) head.size += (int32_t)sizeof(WaitingFile) + lf->waiting[k].len;
    int ok = column_put(waiting, &head, sizeof head);
    for (int k = 0; ok && k < lf->found; k++) {
        const Waiting *w = &lf->waiting[k];
        WaitingFile file = {w->kind, w->reply, w->index, w->len};
        ok = column_put(waiting, &file, sizeof file) && column_put(waiting, w->path, (size_t)w->len);
    }
    ok = ok && column_put(raws, PyBytes_AS_STRING(raw), (size_t)PyBytes_GET_SIZE(raw));
    if (!ok) PyErr_NoMemory();
    return ok;
}

/* The files of a run of accepted lines, added up as scan_batch returns them. */
typedef struct {
    unsigned long long count, bytes;
    uint32_t *used; /* the entries the accepted lines use */
    size_t used_cap;
    int64_t *images; /* IMAGE_FIELDS per image attachment */
    size_t image_count, image_cap;
    Where largest, most;
} Totals;

static int totals_add(Totals *t, const LineFiles *lf, long long line, int direct) {
    if (lf->found > 0 && t->count + (size_t)lf->found > t->used_cap) {
        size_t cap = t->used_cap ? t->used_cap * 2 : 1024;
        while (cap < t->count + (size_t)lf->found) cap *= 2;
        uint32_t *grown = PyMem_Realloc(t->used, cap * sizeof *t->used);
        if (grown == NULL) {
            PyErr_NoMemory();
            return 0;
        }
        t->used = grown;
        t->used_cap = cap;
    }
    if (lf->found > 0) memcpy(t->used + t->count, lf->members, (size_t)lf->found * sizeof *t->used);
    if (!grow_records(&t->images, &t->image_cap, t->image_count, (size_t)lf->images, IMAGE_FIELDS))
        return 0;
    for (int k = 0; k < lf->images; k++) {
        int64_t *out = t->images + IMAGE_FIELDS * t->image_count++;
        out[0] = line;
        out[1] = direct;
        out[2] = lf->image[k].reply;
        out[3] = lf->image[k].index;
        out[4] = lf->image[k].member;
    }
    t->count += (unsigned long long)lf->found;
    t->bytes += lf->bytes;
    /* Across lines only a larger value takes over: the earlier line keeps a tie. */
    if (lf->largest.value > t->largest.value) {
        t->largest = lf->largest;
        t->largest.line = line;
        t->largest.direct = direct;
    }
    if (lf->most.value > t->most.value) {
        t->most = lf->most;
        t->most.line = line;
        t->most.direct = direct;
    }
    return 1;
}

/* scan_batch's `files` of the accepted lines (a new reference), or NULL. */
static PyObject *totals_summary(const Totals *t) {
    if (t->count == 0) return Py_NewRef(Py_None);
    PyObject *image_bytes =
        t->image_count == 0 ? Py_NewRef(Py_None)
                            : PyBytes_FromStringAndSize(
                                  (const char *)t->images,
                                  (Py_ssize_t)(t->image_count * IMAGE_FIELDS * sizeof *t->images));
    if (image_bytes == NULL) return NULL;
    return Py_BuildValue("(KK(KLiii)(KLii)y#N)", t->count, t->bytes, t->largest.value,
                         t->largest.line, t->largest.direct, t->largest.reply, t->largest.index,
                         t->most.value, t->most.line, t->most.direct, t->most.reply,
                         (const char *)t->used, (Py_ssize_t)(t->count * sizeof *t->used),
                         image_bytes);
}

static void totals_free(Totals *t) {
    PyMem_Free(t->used);
    PyMem_Free(t->images);
}

static PyObject *scan_batch(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    Ctx ctx = {0};
    Files files;
    if (nargs != 9) {
        PyErr_SetString(PyExc_TypeError, "scan_batch() takes 9 arguments");
        return NULL;
    }
    PyObject *batch = args[0];
    if (!PyList_Check(batch)) {
        PyErr_SetString(PyExc_TypeError, "scan_batch() needs a list of lines");
        return NULL;
    }
    Py_ssize_t start = PyLong_AsSsize_t(args[1]);
    if (start == -1 && PyErr_Occurred()) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(batch);
    long long first_line = 0;
    const int64_t *line_of = NULL; /* the lines' numbers, when not consecutive */
    if (PyBytes_Check(args[2])) {
        if (PyBytes_GET_SIZE(args[2]) != n * (Py_ssize_t)sizeof *line_of) {
            PyErr_SetString(PyExc_ValueError, "scan_batch() needs one line number per line");
            return NULL;
        }
        line_of = (const int64_t *)PyBytes_AS_STRING(args[2]);
    } else {
        first_line = PyLong_AsLongLong(args[2]);
        if (first_line == -1 && PyErr_Occurred()) return NULL;
    }
    if (!read_context(args + 3, &ctx)) return NULL;
    if (start < 0 || start > n) {
        PyErr_SetString(PyExc_IndexError, "scan_batch() start out of range");
        return NULL;
    }
    if (!read_files(args[8], &files, &ctx.files)) return NULL;
    const int defer = ctx.files != NULL && files.table == NULL;
    Totals totals = {0};
    /* defer mode: the files of the lines with some, the lines setting a new longest list
     * (LONGEST_FIELDS each), their records and their raw lines */
    unsigned long long waiting_files = 0;
    long long longest_list = 0;
    int64_t *longest_lines = NULL;
    size_t longest_count = 0, longest_cap = 0;
    ByteColumn waiting = {0}, raws = {0};
    PyObject *identities = PyBytes_FromStringAndSize(NULL, (n - start) * 8);
    PyObject *lines = PyBytes_FromStringAndSize(NULL, (n - start) * 8);
    PyObject *result = NULL;
    if (identities == NULL || lines == NULL) goto done;
    uint64_t *out_identity = (uint64_t *)PyBytes_AS_STRING(identities);
    uint64_t *out_line = (uint64_t *)PyBytes_AS_STRING(lines);
    long long counts[2] = {0, 0}, replies = 0, reactions = 0, longest_line = 0;
    Py_ssize_t longest = -1, accepted = 0, i;
    int longest_direct = 0;

    /* The callback (type_ok) runs Python code: hold the line, and re-read the
     * list's size (never past the n slots allocated above), in case that code touched it. */
    for (i = start; i < n && i < PyList_GET_SIZE(batch); i++) {
        PyObject *raw = PyList_GET_ITEM(batch, i);
        long long line = line_of != NULL ? line_of[i] : first_line + i;
        if (line <= 1 || !PyBytes_CheckExact(raw)) break;
        Cur c = line_cursor(raw);
        int direct = envelope_start(&c);
        if (direct < 0) break;
        Py_INCREF(raw);
        Accepted acc; /* scan_one sets what is read (not the files' arrays: ~1 KB) */
        int r = scan_one(&ctx, c, PyBytes_GET_SIZE(raw), direct, &acc);
        /* defer mode: the waiting paths point into the line, copied before it is let go */
        if (r == OK && defer && acc.lf.found > 0 &&
            !put_waiting(&waiting, &raws, line, direct, &acc.lf, raw))
            r = FAIL;
        Py_DECREF(raw);
        if (r == FAIL) goto done;
        if (r == DECLINE) break;
        out_identity[accepted] = acc.identity;
        out_line[accepted] = (uint64_t)line;
        accepted++;
        counts[direct]++;
        replies += acc.replies;
        reactions += acc.reactions;
        if (acc.runes > longest) {
            longest = acc.runes;
            longest_line = line;
            longest_direct = direct;
        }
        const LineFiles *lf = &acc.lf;
        if (defer) {
            if (lf->found == 0) continue;
            waiting_files += (unsigned long long)lf->found;
            if ((long long)lf->most.value > longest_list) {
                longest_list = (long long)lf->most.value;
                if (!grow_records(&longest_lines, &longest_cap, longest_count, 1, LONGEST_FIELDS))
                    goto done;
                int64_t *out = longest_lines + LONGEST_FIELDS * longest_count++;
                out[0] = line;
                out[1] = direct;
                out[2] = longest_list;
                out[3] = lf->most.reply;
            }
            continue;
        }
        if (!totals_add(&totals, lf, line, direct)) goto done;
    }
    if (_PyBytes_Resize(&identities, accepted * 8) < 0 || _PyBytes_Resize(&lines, accepted * 8) < 0)
        goto done;
    PyObject *summary =
        !defer ? totals_summary(&totals)
        : waiting_files == 0
            ? Py_NewRef(Py_None)
            : Py_BuildValue("(Ky#y#y#)", waiting_files, (const char *)longest_lines,
                            (Py_ssize_t)(longest_count * LONGEST_FIELDS * sizeof *longest_lines),
                            column_bytes(&waiting), (Py_ssize_t)waiting.len, column_bytes(&raws),
                            (Py_ssize_t)raws.len);
    if (summary == NULL) goto done;
    result = Py_BuildValue("(nLLLLnLNOON)", i, counts[0], counts[1], replies, reactions, longest,
                           longest_line, PyBool_FromLong(longest_direct), identities, lines, summary);

done:
    totals_free(&totals);
    PyMem_Free(longest_lines);
    PyMem_Free(waiting.data);
    PyMem_Free(raws.data);
    Py_XDECREF(identities);
    Py_XDECREF(lines);
    return result;
}

/* resolve_waiting(waiting, offset, files) -> (stop, files)
 *
 * A stream's waiting lines (scan_batch's defer mode), now that the members are known
 * (`files` as scan_batch's, with the member table): their attachments resolved as
 * scan_batch resolves a line's, from the record at `offset` for as long as every file of a
 * line resolves. `stop` is the offset of the first record whose files do not (the general
 * path's line), or the end; `files` is scan_batch's for the lines resolved (None: none). */
static PyObject *resolve_waiting(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    Files files;
    Files *given;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "resolve_waiting() takes 3 arguments");
        return NULL;
    }
    if (!PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "resolve_waiting() needs the records as bytes");
        return NULL;
    }
    Py_ssize_t at = PyLong_AsSsize_t(args[1]);
    if (at == -1 && PyErr_Occurred()) return NULL;
    if (!read_files(args[2], &files, &given)) return NULL;
    if (given == NULL || files.table == NULL) {
        PyErr_SetString(PyExc_TypeError, "resolve_waiting() needs the member table");
        return NULL;
    }
    const char *data = PyBytes_AS_STRING(args[0]);
    Py_ssize_t end = PyBytes_GET_SIZE(args[0]);
    if (at < 0 || at > end) {
        PyErr_SetString(PyExc_IndexError, "resolve_waiting() offset out of range");
        return NULL;
    }
    Totals totals = {0};
    PyObject *result = NULL;
    LineFiles lf;
    while (at < end) {
        WaitingLine head;
        if (end - at < (Py_ssize_t)sizeof head) goto damaged;
        memcpy(&head, data + at, sizeof head);
        if (head.size < (int32_t)sizeof head || head.size > end - at || head.found < 1 ||
            head.found > MAX_FILES_PER_LINE)
            goto damaged;
        lf.found = lf.images = 0;
        lf.bytes = 0;
        memset(&lf.largest, 0, sizeof lf.largest);
        lf.most = (Where){(unsigned long long)head.most, 0, 0, head.most_reply, 0};
        Py_ssize_t p = at + (Py_ssize_t)sizeof head, record_end = at + head.size;
        int r = OK;
        for (int k = 0; r == OK && k < head.found; k++) {
            WaitingFile file;
            if (record_end - p < (Py_ssize_t)sizeof file) goto damaged;
            memcpy(&file, data + p, sizeof file);
            p += (Py_ssize_t)sizeof file;
            if (file.len < 1 || file.len > MAX_PATH_BYTES || record_end - p < file.len) goto damaged;
            r = resolve(&files, &lf, (const unsigned char *)data + p, (size_t)file.len, file.kind,
                        file.reply, file.index);
            p += file.len;
        }
        if (r == FAIL) goto done;
        if (r == DECLINE) break;
        sort_images(&lf);
        if (!totals_add(&totals, &lf, head.line, head.direct)) goto done;
        at = record_end;
    }
    PyObject *summary = totals_summary(&totals);
    if (summary != NULL) result = Py_BuildValue("(nN)", at, summary);
    goto done;
damaged:
    PyErr_SetString(PyExc_ValueError, "resolve_waiting() records are damaged");
done:
    totals_free(&totals);
    return result;
}

/* --- inspect: counting without validating ---------------------------------------------- */

/* null (0) or an array, counted: what inspect's `len(x or ())` gives. */
static int count_array(Cur *c, long long *count) {
    int first = 1, r;
    if (is_null(c)) return OK;
    if (!open_container(c, '[')) return DECLINE;
    while ((r = next_element(c, &first)) == OK) {
        if (skip_value(c, 1) != OK) return DECLINE;
        (*count)++;
    }
    return r == END ? OK : DECLINE;
}

/* An object's members: `wanted` keys (one bit each, from KNOWN_KEYS) go to `on_key`; the rest
 * are skipped. A wanted key seen twice declines (orjson keeps the last: the Python path). */
typedef struct {
    long long replies, reactions, attachments, create_at;
    int has_create_at;
    Str team, channel;
    int has_team, has_channel;
} Skim;

static int skim_object(Cur *c, unsigned wanted, Skim *skim, int depth);

static int skim_member(Cur *c, unsigned bit, Skim *skim, int depth) {
    int first = 1, r;
    switch (bit) {
        case K_TEAM:
            skim->has_team = 1;
            return scan_string(c, &skim->team);
        case K_CHANNEL:
            skim->has_channel = 1;
            return scan_string(c, &skim->channel);
        case K_CREATE_AT:
            if (is_null(c)) return OK;
            skim->has_create_at = 1;
            return scan_int64(c, &skim->create_at);
        case K_REACTIONS:
            return count_array(c, &skim->reactions);
        case K_ATTACHMENTS:
            return count_array(c, &skim->attachments);
        case K_REPLIES:
            if (is_null(c)) return OK;
            if (!open_container(c, '[')) return DECLINE;
            while ((r = next_element(c, &first)) == OK) {
                Skim reply = {0};
                /* A reply's own files and reactions count with its post's. */
                if (skim_object(c, K_REACTIONS | K_ATTACHMENTS, &reply, depth + 1) != OK) return DECLINE;
                skim->reactions += reply.reactions;
                skim->attachments += reply.attachments;
                skim->replies++;
            }
            return r == END ? OK : DECLINE;
        default:
            return DECLINE;
    }
}

static int skim_object(Cur *c, unsigned wanted, Skim *skim, int depth) {
    unsigned seen = 0;
    int first = 1, r;
    Str key;
    if (!open_container(c, '{')) return DECLINE;
    /* next_member declines escaped keys: one could spell a wanted key (the Python path's). */
    while ((r = next_member(c, &first, &key)) == OK) {
        unsigned bit = key_bit(&key);
        if (bit & wanted) {
            if (seen & bit) return DECLINE;
            seen |= bit;
            if (skim_member(c, bit, skim, depth) != OK) return DECLINE;
        } else if (skip_value(c, depth + 1) != OK) {
            return DECLINE;
        }
    }
    return r == END ? OK : DECLINE;
}

/* Per (team, channel) of a batch: [posts, replies, attachments, first_post_at, last_post_at] */
enum { P_POSTS, P_REPLIES, P_ATTACHMENTS, P_FIRST, P_LAST, P_SIZE };

static int add_place(PyObject *places, const Skim *skim) {
    PyObject *team = to_str(&skim->team), *channel = to_str(&skim->channel), *key = NULL;
    long long row[P_SIZE];
    int r = -1;
    if (team == NULL || channel == NULL || (key = PyTuple_Pack(2, team, channel)) == NULL) goto done;
    PyObject *entry = PyDict_GetItemWithError(places, key);
    if (entry == NULL) {
        if (PyErr_Occurred()) goto done;
        row[P_POSTS] = row[P_REPLIES] = row[P_ATTACHMENTS] = 0;
        row[P_FIRST] = INT64_MAX;
        row[P_LAST] = INT64_MIN;
    } else {
        if (!PyList_CheckExact(entry) || PyList_GET_SIZE(entry) != P_SIZE) {
            PyErr_SetString(PyExc_TypeError, "skim_batch() places must hold 5-item lists");
            goto done;
        }
        for (int i = 0; i < P_SIZE; i++) {
            row[i] = PyLong_AsLongLong(PyList_GET_ITEM(entry, i));
            if (row[i] == -1 && PyErr_Occurred()) goto done;
        }
    }
    row[P_POSTS] += 1;
    row[P_REPLIES] += skim->replies;
    row[P_ATTACHMENTS] += skim->attachments;
    if (skim->has_create_at) {
        if (skim->create_at < row[P_FIRST]) row[P_FIRST] = skim->create_at;
        if (skim->create_at > row[P_LAST]) row[P_LAST] = skim->create_at;
    }
    PyObject *updated = Py_BuildValue("[LLLLL]", row[0], row[1], row[2], row[3], row[4]);
    if (updated == NULL) goto done;
    r = PyDict_SetItem(places, key, updated);
    Py_DECREF(updated);

done:
    Py_XDECREF(team);
    Py_XDECREF(channel);
    Py_XDECREF(key);
    return r;
}

/* skim_batch(batch, start, places)
 *
 * inspect's counting for runs of post and direct_post lines, from batch[start] until a line
 * this does not take (any other type, anything unusual): that line is the Python path's.
 * Posts with a team and a channel are added up in `places`, a dict keyed (team, channel) as
 * written, values [posts, replies, attachments, first_post_at, last_post_at] (first/last
 * are INT64_MAX/INT64_MIN while unknown).
 *
 * Returns (stop, posts, direct_posts, replies, reactions, attachments, first_post_at,
 * last_post_at), the dates None when no post had one. */
static PyObject *skim_batch(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    Py_ssize_t start;
    if (nargs != 3 || !PyDict_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "skim_batch(batch: list, start: int, places: dict)");
        return NULL;
    }
    if (!batch_start(args[0], args[1], "skim_batch", &start)) return NULL;
    PyObject *batch = args[0], *places = args[2];
    Py_ssize_t n = PyList_GET_SIZE(batch), i;
    long long counts[2] = {0, 0}, replies = 0, reactions = 0, attachments = 0;
    long long first_at = INT64_MAX, last_at = INT64_MIN;

    for (i = start; i < n; i++) {
        PyObject *raw = PyList_GET_ITEM(batch, i);
        if (!PyBytes_CheckExact(raw)) break;
        Cur c = line_cursor(raw);
        int direct = envelope_start(&c);
        if (direct < 0) break;
        Skim skim = {0};
        unsigned wanted = K_CREATE_AT | K_REPLIES | K_REACTIONS | K_ATTACHMENTS | K_TEAM | K_CHANNEL;
        if (skim_object(&c, wanted, &skim, 1) != OK || envelope_end(&c) != OK) break;
        if (skim.has_team && skim.has_channel) {
            if (add_place(places, &skim) < 0) return NULL;
        }
        counts[direct]++;
        replies += skim.replies;
        reactions += skim.reactions;
        attachments += skim.attachments;
        if (skim.has_create_at) {
            if (skim.create_at < first_at) first_at = skim.create_at;
            if (skim.create_at > last_at) last_at = skim.create_at;
        }
    }
    PyObject *first = first_at == INT64_MAX ? Py_NewRef(Py_None) : PyLong_FromLongLong(first_at);
    PyObject *last = last_at == INT64_MIN ? Py_NewRef(Py_None) : PyLong_FromLongLong(last_at);
    if (first == NULL || last == NULL) {
        Py_XDECREF(first);
        Py_XDECREF(last);
        return NULL;
    }
    return Py_BuildValue("(nLLLLLNN)", i, counts[0], counts[1], replies, reactions, attachments,
                         first, last);
}

/* settled_posts(batch, start)
 *
 * The index of the first line from batch[start] that is not a post or direct_post line whose
 * type is settled: it begins {"type":"post" (or "direct_post") and no later key could be
 * matched to "type" — Go keeps the last of repeated keys and folds their case. Mirrors
 * archivekit.gosem.decode.type_is_settled: no ype" in any case after the prefix, and no \u
 * escape of a letter (\u0040-\u007f) anywhere. Parallel workers pass over these lines in
 * batches they do not own: they define nothing. No allocation, no Python call per line. */
static const char SETTLED_PREFIXES[2][22] = {"{\"type\":\"post\"", "{\"type\":\"direct_post\""};

static int type_settled(const unsigned char *p, const unsigned char *end) {
    const unsigned char *from = NULL;
    for (int kind = 0; kind < 2; kind++) {
        size_t len = strlen(SETTLED_PREFIXES[kind]);
        if ((size_t)(end - p) >= len && memcmp(p, SETTLED_PREFIXES[kind], len) == 0) {
            from = p + len;
            break;
        }
    }
    if (from == NULL) return 0;
    for (const unsigned char *q = from; (q = memchr(q, '"', (size_t)(end - q))) != NULL; q++) {
        if (q - from >= 3 && (q[-3] | 0x20) == 'y' && (q[-2] | 0x20) == 'p' &&
            (q[-1] | 0x20) == 'e')
            return 0;
    }
    for (const unsigned char *q = p; (q = memchr(q, '\\', (size_t)(end - q))) != NULL; q++) {
        if (end - q >= 6 && q[1] == 'u' && q[2] == '0' && q[3] == '0' && q[4] >= '4' &&
            q[4] <= '7' &&
            ((q[5] >= '0' && q[5] <= '9') || ((q[5] | 0x20) >= 'a' && (q[5] | 0x20) <= 'f')))
            return 0;
    }
    return 1;
}

static PyObject *settled_posts(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    Py_ssize_t start;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "settled_posts(batch: list, start: int)");
        return NULL;
    }
    if (!batch_start(args[0], args[1], "settled_posts", &start)) return NULL;
    PyObject *batch = args[0];
    Py_ssize_t n = PyList_GET_SIZE(batch), i;
    for (i = start; i < n; i++) {
        PyObject *raw = PyList_GET_ITEM(batch, i);
        if (!PyBytes_CheckExact(raw)) break;
        const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(raw);
        if (!type_settled(p, p + PyBytes_GET_SIZE(raw))) break;
    }
    return PyLong_FromSsize_t(i);
}

/* scan_text(text, offset, first_line, users, teams, channels, type_ok, max_post_size, files)
 *   -> (stop, accepted, posts, direct_posts)
 *
 * scan_batch for lines joined by "\n" in one bytes object (a writer's block of lines, never
 * split into a list): from the line starting at byte `offset` (line number `first_line`), for
 * as long as the lines are post or direct_post lines the fast path accepts. `stop` is where
 * the first other line starts (a definition, a declined post, line 1, a blank line), or
 * len(text) + 1 once the last line is accepted; `accepted` the lines before it, `posts` and
 * `direct_posts` how many of each. Only the verdicts: no identities, no files' tallies. */
static PyObject *scan_text(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    Ctx ctx = {0};
    Files files;
    if (nargs != 9) {
        PyErr_SetString(PyExc_TypeError, "scan_text() takes 9 arguments");
        return NULL;
    }
    PyObject *text = args[0];
    if (!PyBytes_CheckExact(text)) {
        PyErr_SetString(PyExc_TypeError, "scan_text() needs the lines as bytes");
        return NULL;
    }
    Py_ssize_t size = PyBytes_GET_SIZE(text);
    Py_ssize_t at = PyLong_AsSsize_t(args[1]);
    if (at == -1 && PyErr_Occurred()) return NULL;
    long long line = PyLong_AsLongLong(args[2]);
    if (line == -1 && PyErr_Occurred()) return NULL;
    if (at < 0 || at > size) {
        PyErr_SetString(PyExc_IndexError, "scan_text() offset out of range");
        return NULL;
    }
    if (!read_context(args + 3, &ctx) || !read_files(args[8], &files, &ctx.files)) return NULL;
    if (ctx.files != NULL && files.table == NULL) {
        PyErr_SetString(PyExc_TypeError, "scan_text() resolves files: defer mode is scan_batch's");
        return NULL;
    }
    long long counts[2] = {0, 0};
    int failed = 0;
    /* The callback (type_ok) runs Python code: hold the text. */
    Py_INCREF(text);
    const unsigned char *base = (const unsigned char *)PyBytes_AS_STRING(text);
    while (line > 1) {
        const unsigned char *p = base + at;
        const unsigned char *nl = memchr(p, '\n', (size_t)(size - at));
        Py_ssize_t len = nl != NULL ? nl - p : size - at;
        Cur c = {p, p + len};
        int direct = envelope_start(&c);
        if (direct < 0) break;
        Accepted acc; /* scan_one sets what is read (not the files' arrays: ~1 KB) */
        int r = scan_one(&ctx, c, len, direct, &acc);
        if (r == FAIL) failed = 1;
        if (r != OK) break;
        counts[direct]++;
        line++;
        at += len + 1;
        if (nl == NULL) break; /* the last line: `at` is past the end */
    }
    Py_DECREF(text);
    if (failed) return NULL;
    return Py_BuildValue("(nLLL)", at, counts[0] + counts[1], counts[0], counts[1]);
}

static PyMethodDef methods[] = {
    {"identity_digest", identity_digest, METH_O,
     "identity_digest(data) -> int: XXH64 (seed 0) of data (tests)."},
    {"scan", (PyCFunction)(void (*)(void))scan, METH_FASTCALL,
     "scan(raw, direct, users, teams, channels, type_ok, max_post_size, files): None to decline, "
     "or (identity, message runes, replies, reactions, files) for a line the general path would "
     "accept without a word."},
    {"skim_batch", (PyCFunction)(void (*)(void))skim_batch, METH_FASTCALL,
     "skim_batch(batch, start, places): inspect's counts for runs of post lines; see "
     "archivekit/check/fast/_scan.c."},
    {"scan_batch", (PyCFunction)(void (*)(void))scan_batch, METH_FASTCALL,
     "scan_batch(batch, start, first_line, users, teams, channels, type_ok, max_post_size, "
     "files): "
     "scan lines from batch[start] until one the fast path does not accept; see "
     "archivekit/check/fast/_scan.c."},
    {"scan_text", (PyCFunction)(void (*)(void))scan_text, METH_FASTCALL,
     "scan_text(text, offset, first_line, users, teams, channels, type_ok, max_post_size, "
     "files) -> (stop, accepted, posts, direct_posts): scan_batch's verdicts for lines joined "
     "by newlines; see archivekit/check/fast/_scan.c."},
    {"resolve_waiting", (PyCFunction)(void (*)(void))resolve_waiting, METH_FASTCALL,
     "resolve_waiting(waiting, offset, files) -> (stop, files): a stream's waiting lines "
     "resolved once its members are known; see archivekit/check/fast/_scan.c."},
    {"settled_posts", (PyCFunction)(void (*)(void))settled_posts, METH_FASTCALL,
     "settled_posts(batch, start): the index of the first line from batch[start] that is not "
     "a post line whose type no later key can change; see archivekit/check/fast/_scan.c."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "archivekit.check.fast._scan",
    "The accept-only fast path for post lines, in C (see archivekit.check.fast.fastpath).", -1, methods,
};

PyMODINIT_FUNC PyInit__scan(void) {
    jsonline_init();
    for (int i = 0; i < 256; i++) {
        emoji_char[i] = (i >= 'a' && i <= 'z') || (i >= 'A' && i <= 'Z') || (i >= '0' && i <= '9') ||
                        i == '+' || i == '_' || i == '-';
    }
    PyObject *module = PyModule_Create(&module_def);
#ifndef SOURCE_SHA256
#define SOURCE_SHA256 "unknown"
#endif
    /* Which source this was built from: a test compares it with the file (stale builds). */
    if (module != NULL && PyModule_AddStringConstant(module, "SOURCE_SHA256", SOURCE_SHA256) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
