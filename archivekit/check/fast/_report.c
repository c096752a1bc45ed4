/*
 * archivekit.check.fast._report: what the report layer reads from post and direct_post lines,
 * in C — the tables' counts (`Tally`, for archivekit/check/table_counts.py) and reconcile's
 * identity records (`Records`, for archivekit/report/reconcile_read.py).
 *
 * The contract of the fast path (archivekit/check/fast/fastpath.py): a line is taken here only
 * when everything it adds is what the Python code adds for it; on anything unusual (a field of
 * another type, an escaped or repeated key, a non-ASCII name where Go's lowercase matters, a
 * non-ASCII attachment path, a number orjson might read otherwise) the run stops at that line
 * and the Python path takes it from scratch. The tables are sums, minima, maxima and set
 * unions, so the lines counted here and in Python add up to one Python pass whatever the
 * order; reconcile's records and the ids of the places and users they name come out in the
 * Python path's order, so its spool is the same byte for byte. Tests hold both to Python.
 *
 * A line is first read into a scratch list of its post, replies, reactions and files (pointers
 * into the line), then counted or turned into records once it has been read to its end.
 *
 * The tables keep what they count keyed by the names as written (teams, channels, users, DM/GM
 * member lists); the Python side folds the spellings into Go's lowercase when it takes the
 * counts, as its own caches do. DM/GM members are ASCII here, so whether a list is a DM or a
 * GM (its distinct lowercased names) is decided here too, for the days table. Memory grows
 * with the number of channels, member lists, users and file extensions, never with the number
 * of posts: the days table holds periods (day, month, … as archivekit/check/periods.py), and
 * widens them as it counts when a group holds more than `periods_held` of them or the table
 * more than `buckets_held` (table_counts.py's PERIODS_HELD and BUCKETS_HELD).
 *
 * Input is hostile: the lexer (_jsonline.h) bounds-checks every read; nesting is bounded by
 * the fixed shape (post -> replies -> reactions, files) and by skip_value's depth limit.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "_identity.h"
#include "_jsonline.h"
#include "_memberindex.h"

#define DAY_MS 86400000LL
/* DM/GM member lists longer than this go to the Python path (the server allows 8). */
#define MAX_MEMBERS 64
/* Files larger than this go to the Python path: byte totals then never overflow 64 bits. */
#define MAX_FILE_BYTES (1ULL << 32)
/* Day buckets of DMs and GMs; a channel's bucket group is FIRST_TEAM_GROUP + its team's id. */
enum { GROUP_DM = 0, GROUP_GM = 1, FIRST_TEAM_GROUP = 2 };

/* --- a hash table of byte keys, each with a record ------------------------------------------
 *
 * Keys are copied into one buffer; ids are dense (0, 1, ...) in order of first sight, and a
 * record of `record_size` bytes (zeroed when the key is added) goes with each. Records move
 * when the table grows: callers keep ids, never record pointers, across an `intern`. */

typedef struct {
    uint64_t hash;
    uint64_t offset;
    uint32_t len;
} KeyRef;

typedef struct {
    char *bytes;
    size_t used, cap;
    KeyRef *keys;
    char *records;
    size_t count, room, record_size;
    uint32_t *slots; /* 0 empty, else 1 + id; a power of two of them, at most 3/4 full */
    size_t mask;
} Table;

/* Errors of the tables and the reader, which `Tally.count` runs without the GIL (its memory
 * is PyMem_Raw*'s for that): the exception is set with the GIL taken for it (it may be held
 * already: PyGILState_Ensure nests). */
static void raise_no_memory(void) {
    PyGILState_STATE gil = PyGILState_Ensure();
    PyErr_NoMemory();
    PyGILState_Release(gil);
}

static void raise_too_many_keys(void) {
    PyGILState_STATE gil = PyGILState_Ensure();
    PyErr_SetString(PyExc_OverflowError, "too many table keys");
    PyGILState_Release(gil);
}

static void table_free(Table *t) {
    PyMem_RawFree(t->bytes);
    PyMem_RawFree(t->keys);
    PyMem_RawFree(t->records);
    PyMem_RawFree(t->slots);
    memset(t, 0, sizeof *t);
}

static int table_rehash(Table *t, size_t slots) {
    uint32_t *fresh = PyMem_RawCalloc(slots, sizeof *fresh);
    if (fresh == NULL) {
        raise_no_memory();
        return FAIL;
    }
    for (size_t id = 0; id < t->count; id++) {
        size_t i = (size_t)t->keys[id].hash & (slots - 1);
        while (fresh[i] != 0) i = (i + 1) & (slots - 1);
        fresh[i] = (uint32_t)(id + 1);
    }
    PyMem_RawFree(t->slots);
    t->slots = fresh;
    t->mask = slots - 1;
    return OK;
}

/* Room for `need` items of `size` bytes in *data (allocated even for none: no NULL buffers). */
static int grow(void **data, size_t *cap, size_t need, size_t size) {
    if (need <= *cap && *data != NULL) return OK;
    size_t cap2 = *cap ? *cap : 64;
    while (cap2 < need) cap2 *= 2;
    void *grown = PyMem_RawRealloc(*data, cap2 * size);
    if (grown == NULL) {
        raise_no_memory();
        return FAIL;
    }
    *data = grown;
    *cap = cap2;
    return OK;
}

/* The id of `key` (n bytes), added with a zeroed record when new (*added then 1); -1 with an
 * exception set when memory runs out. */
static int64_t intern(Table *t, const void *key, size_t n, int *added) {
    uint64_t h = member_key_hash(key, n);
    *added = 0;
    if (t->slots != NULL) {
        for (size_t i = (size_t)h & t->mask;; i = (i + 1) & t->mask) {
            uint32_t slot = t->slots[i];
            if (slot == 0) break;
            const KeyRef *k = &t->keys[slot - 1];
            if (k->hash == h && k->len == n && memcmp(t->bytes + k->offset, key, n) == 0)
                return slot - 1;
        }
    }
    if (t->count >= UINT32_MAX - 1 || n > UINT32_MAX) {
        raise_too_many_keys();
        return -1;
    }
    if (t->slots == NULL || (t->count + 1) * 4 > (t->mask + 1) * 3) {
        if (table_rehash(t, t->slots == NULL ? 64 : (t->mask + 1) * 2) != OK) return -1;
    }
    if (t->count == t->room) {
        size_t room = t->room ? t->room * 2 : 64;
        KeyRef *keys = PyMem_RawRealloc(t->keys, room * sizeof *keys);
        if (keys == NULL) {
            raise_no_memory();
            return -1;
        }
        t->keys = keys;
        if (t->record_size > 0) {
            char *records = PyMem_RawRealloc(t->records, room * t->record_size);
            if (records == NULL) {
                raise_no_memory();
                return -1;
            }
            t->records = records;
        }
        t->room = room;
    }
    if (grow((void **)&t->bytes, &t->cap, t->used + n, 1) != OK) return -1;
    if (n > 0) memcpy(t->bytes + t->used, key, n);
    size_t id = t->count++;
    t->keys[id] = (KeyRef){h, t->used, (uint32_t)n};
    t->used += n;
    if (t->record_size > 0) memset(t->records + id * t->record_size, 0, t->record_size);
    size_t i = (size_t)h & t->mask;
    while (t->slots[i] != 0) i = (i + 1) & t->mask;
    t->slots[i] = (uint32_t)(id + 1);
    *added = 1;
    return (int64_t)id;
}

static inline const char *key_bytes(const Table *t, size_t id) { return t->bytes + t->keys[id].offset; }

/* --- what is counted (the fields of table_counts.py's classes of the same names) ----------- */

/* The first and last date seen (any int64: no sentinel value). */
typedef struct {
    int64_t first_at, last_at;
    int seen;
} Span;

static inline void span_add(Span *s, long long at) {
    if (!s->seen || at < s->first_at) s->first_at = at;
    if (!s->seen || at > s->last_at) s->last_at = at;
    s->seen = 1;
}

typedef struct {
    int64_t posts, replies, reactions, files;
    uint64_t file_bytes;
    Span span; /* of root posts */
    uint32_t group;
} Place;

typedef struct {
    int64_t posts, direct_posts, replies, reactions, files;
    Span span;
} Person;

typedef struct {
    int64_t posts, replies, files;
    uint64_t file_bytes;
} Bucket;

typedef struct {
    int64_t files, missing;
    uint64_t bytes, largest;
} FileType;

/* --- periods: archivekit/check/periods.py's levels (day, month, quarter, year, decade, …) ----- */

enum { LEVEL_DAY = 0, LEVEL_MONTH = 1, LEVEL_QUARTER = 2, LEVEL_YEAR = 3 };
/* A period of 10**9 years holds every day an int64 of ms can name: no level past it
 * (periods.WIDEST; table_counts._fitting stops there too). */
#define LEVEL_MOST (LEVEL_YEAR + 9)

static inline long long floor_div(long long a, long long b) {
    long long q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* periods.civil: (year, month, day of month) of a day index since 1970-01-01. */
static void civil(long long day, long long *year, int *month) {
    long long z = day + 719468;
    long long era = floor_div(z, 146097);
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (m <= 2);
    *month = m;
}

/* periods.day_index: the day index of the first of `month` of `year`. */
static long long first_of_month(long long year, int month) {
    year -= month <= 2;
    long long era = floor_div(year, 400);
    long long yoe = year - era * 400;
    long long doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* periods.Starts: the first day of the period of `level` that holds a day, the bounds of the
 * last period found kept (posts in date order share them). */
typedef struct {
    int level;
    long long first, end; /* [first, end): the last period found (none while first == end) */
} Starts;

static long long period_start(Starts *s, long long day) {
    if (s->level == LEVEL_DAY) return day;
    if (s->first <= day && day < s->end) return s->first;
    long long year;
    int month;
    civil(day, &year, &month);
    if (s->level == LEVEL_MONTH) {
        s->first = first_of_month(year, month);
        s->end = month == 12 ? first_of_month(year + 1, 1) : first_of_month(year, month + 1);
    } else if (s->level == LEVEL_QUARTER) {
        month -= (month - 1) % 3;
        s->first = first_of_month(year, month);
        s->end = month == 10 ? first_of_month(year + 1, 1) : first_of_month(year, month + 3);
    } else {
        long long years = 1;
        for (int k = LEVEL_YEAR; k < s->level; k++) years *= 10;
        year = floor_div(year, years) * years;
        s->first = first_of_month(year, 1);
        s->end = first_of_month(year + years, 1);
    }
    return s->first;
}

typedef struct {
    int64_t lines, bytes, replies, reactions, files;
} LineType;

/* --- one line, read before it is counted ------------------------------------------------- */

/* The post (owner 0) or one of its replies. */
typedef struct {
    Str user;
    int has_user;
    long long at;
    int has_at;
    Str message; /* read for the records only */
    int has_message;
    int64_t person, bucket; /* the tables' ids once counted, -1 for none */
    uint64_t digest;        /* the records' identity */
} Owner;

enum { ITEM_REACTION, ITEM_FILE };

/* A reaction or an attachment of owner `owner`. */
typedef struct {
    int kind;
    size_t owner;
    Str user; /* reaction */
    int has_user;
    long long at;
    int has_at;
    Str emoji; /* reaction, read for the records only */
    int has_emoji;
    uint64_t size; /* file */
    int found;
    Str path;
} Item;

/* The line being read, and what reading needs. */
typedef struct {
    PyObject *capsule; /* keeps `files` alive (None: lines with files go to Python) */
    const MemberTable *files;
    size_t next_file; /* the entry after the last file found (member_table_find_next) */
    int records; /* reading for the records: messages, emoji; ASCII names */
    Owner *owners;
    size_t owner_count, owner_room;
    Item *items;
    size_t item_count, item_room;
    Str *members;
    size_t member_count, member_room;
    Str team, channel;
    int has_team, has_channel;
    /* a key being built */
    char *key;
    size_t key_len, key_cap;
} Reader;

typedef struct {
    PyObject_HEAD
    Reader reader;
    Table places, people, teams, authors, days, extensions;
    LineType line_types[2]; /* post, direct_post */
    /* The days table: keyed (first day of a period of `starts.level`, group); `held[g]`: the
     * periods group g holds (`held_room` of them allocated); the caps that widen the level. */
    Starts starts;
    int64_t *held;
    size_t held_room;
    long long periods_held, buckets_held;
} Tally;

/* --- reading ------------------------------------------------------------------------------ */

/* Whether a string is ASCII and unescaped: its bytes are its text, and Go's lowercase is
 * ASCII's (what the records need of every name they lowercase). */
static inline int plain_ascii(const Str *s) { return !s->escaped && s->runes == s->len; }

/* A username: a string (has 1), or null (has 0); for the records, ASCII (plain_ascii). */
static int read_user(const Reader *r, Cur *c, Str *user, int *has) {
    *has = 0;
    if (is_null(c)) return OK;
    if (scan_string(c, user) != OK || (r->records && !plain_ascii(user))) return DECLINE;
    *has = 1;
    return OK;
}

/* A string that may be null (has 0): a message, an emoji name. */
static int read_text(Cur *c, Str *text, int *has) {
    *has = 0;
    if (is_null(c)) return OK;
    if (scan_string(c, text) != OK) return DECLINE;
    *has = 1;
    return OK;
}

/* A create_at: an int64 (has 1), or null (has 0). Anything else (a float, a number out of
 * range, a string) is the Python path's: orjson gives a float, a big int or a str. */
static int read_at(Cur *c, long long *at, int *has) {
    *has = 0;
    if (is_null(c)) return OK;
    if (scan_int64(c, at) != OK) return DECLINE;
    *has = 1;
    return OK;
}

static int new_item(Reader *r, int kind, size_t owner, Item **out) {
    if (grow((void **)&r->items, &r->item_room, r->item_count + 1, sizeof *r->items) != OK) return FAIL;
    Item *item = &r->items[r->item_count++];
    memset(item, 0, sizeof *item);
    item->kind = kind;
    item->owner = owner;
    *out = item;
    return OK;
}

/* reactions: null, or a list of objects (user, create_at, and for the records emoji_name;
 * other keys skipped). */
static int read_reactions(Reader *r, Cur *c, size_t owner, int depth) {
    unsigned wanted = K_USER | K_CREATE_AT | (r->records ? K_EMOJI_NAME : 0);
    int first = 1, e;
    if (is_null(c)) return OK;
    if (!open_container(c, '[')) return DECLINE;
    while ((e = next_element(c, &first)) == OK) {
        Item *item;
        if (!open_container(c, '{')) return DECLINE;
        if ((e = new_item(r, ITEM_REACTION, owner, &item)) != OK) return e;
        unsigned seen = 0;
        int member_first = 1, m;
        Str key;
        while ((m = next_member(c, &member_first, &key)) == OK) {
            unsigned bit = key_bit(&key) & wanted;
            if (bit == 0) {
                m = skip_value(c, depth + 1);
            } else if (seen & bit) {
                return DECLINE; /* orjson keeps the last of repeated keys: Python's */
            } else {
                seen |= bit;
                /* `item` stays valid: nothing is added to the list while it is read. */
                if (bit == K_USER) m = read_user(r, c, &item->user, &item->has_user);
                else if (bit == K_CREATE_AT) m = read_at(c, &item->at, &item->has_at);
                else m = read_text(c, &item->emoji, &item->has_emoji);
            }
            if (m != OK) return m;
        }
        if (m != END) return m;
    }
    return e == END ? OK : e;
}

/* attachments: null, or a list of objects whose "path" (other keys skipped) is null, "" (no
 * file, as in Python) or a path the server joins to data/ unchanged (plain_path), looked up
 * in the member index as the server looks it up. */
static int read_files(Reader *r, Cur *c, size_t owner, int depth) {
    int first = 1, e;
    if (is_null(c)) return OK;
    if (!open_container(c, '[')) return DECLINE;
    while ((e = next_element(c, &first)) == OK) {
        if (!open_container(c, '{')) return DECLINE;
        int member_first = 1, m, seen = 0, has_path = 0;
        Str key, path;
        while ((m = next_member(c, &member_first, &key)) == OK) {
            if (key.len != 4 || memcmp(key.start, "path", 4) != 0) {
                m = skip_value(c, depth + 1);
            } else if (seen) {
                return DECLINE;
            } else {
                seen = 1;
                if (is_null(c)) continue;
                if (scan_string(c, &path) != OK) return DECLINE;
                has_path = path.len > 0;
            }
            if (m != OK) return m;
        }
        if (m != END) return m;
        if (!has_path) continue;
        if (r->files == NULL || !plain_path(&path)) return DECLINE;
        char name[5 + MAX_PATH_BYTES];
        memcpy(name, "data/", 5);
        memcpy(name + 5, path.start, (size_t)path.len);
        int64_t found = member_table_find_next(r->files, &r->next_file, name, 5 + (size_t)path.len);
        Item *item;
        if ((e = new_item(r, ITEM_FILE, owner, &item)) != OK) return e;
        if (found >= 0 && !(r->files->records[found].bits & MB_DIR)) {
            item->size = r->files->records[found].size;
            if (item->size >= MAX_FILE_BYTES) return DECLINE;
            item->found = 1;
        }
        item->path = path;
    }
    return e == END ? OK : e;
}

/* A post or a reply: user, create_at, reactions, attachments, for the records its message
 * (and, for the post, where it is and its replies); other keys skipped. */
static int read_post(Reader *r, Cur *c, size_t owner, unsigned wanted, int depth);

#define REPLY_WANTED (K_USER | K_CREATE_AT | K_REACTIONS | K_ATTACHMENTS)

static int read_replies(Reader *r, Cur *c, int depth) {
    int first = 1, e;
    if (is_null(c)) return OK;
    if (!open_container(c, '[')) return DECLINE;
    while ((e = next_element(c, &first)) == OK) {
        if (grow((void **)&r->owners, &r->owner_room, r->owner_count + 1, sizeof *r->owners) != OK)
            return FAIL;
        size_t owner = r->owner_count++;
        memset(&r->owners[owner], 0, sizeof r->owners[owner]);
        e = read_post(r, c, owner, REPLY_WANTED | (r->records ? K_MESSAGE : 0), depth + 1);
        if (e != OK) return e;
    }
    return e == END ? OK : e;
}

/* channel_members: a non-empty list of ASCII strings without escapes (so that Go's
 * lowercase is ASCII's, and a DM is told from a GM here). */
static int read_members(Reader *r, Cur *c) {
    int first = 1, e;
    if (!open_container(c, '[')) return DECLINE;
    while ((e = next_element(c, &first)) == OK) {
        Str name;
        if (r->member_count == MAX_MEMBERS || scan_string(c, &name) != OK || !plain_ascii(&name))
            return DECLINE;
        if (grow((void **)&r->members, &r->member_room, r->member_count + 1, sizeof *r->members) != OK)
            return FAIL;
        r->members[r->member_count++] = name;
    }
    if (e != END) return e;
    return r->member_count > 0 ? OK : DECLINE;
}

/* team and channel: strings; for the records, ASCII ones (they are lowercased). */
static int read_place_name(const Reader *r, Cur *c, Str *name, int *has) {
    *has = 1;
    if (scan_string(c, name) != OK || (r->records && !plain_ascii(name))) return DECLINE;
    return OK;
}

static int read_post(Reader *r, Cur *c, size_t owner, unsigned wanted, int depth) {
    unsigned seen = 0;
    int first = 1, e;
    Str key;
    if (!open_container(c, '{')) return DECLINE;
    /* next_member declines escaped keys: one could spell a wanted key (Python's). */
    while ((e = next_member(c, &first, &key)) == OK) {
        unsigned bit = key_bit(&key) & wanted;
        if (bit != 0 && (seen & bit)) return DECLINE;
        seen |= bit;
        Owner *o = &r->owners[owner]; /* re-read: replies grow the list */
        switch (bit) {
            case 0:
                e = skip_value(c, depth + 1);
                break;
            case K_USER:
                e = read_user(r, c, &o->user, &o->has_user);
                break;
            case K_CREATE_AT:
                e = read_at(c, &o->at, &o->has_at);
                break;
            case K_MESSAGE:
                e = read_text(c, &o->message, &o->has_message);
                break;
            case K_REACTIONS:
                e = read_reactions(r, c, owner, depth + 1);
                break;
            case K_ATTACHMENTS:
                e = read_files(r, c, owner, depth + 1);
                break;
            case K_REPLIES:
                e = read_replies(r, c, depth + 1);
                break;
            case K_TEAM:
                e = read_place_name(r, c, &r->team, &r->has_team);
                break;
            case K_CHANNEL:
                e = read_place_name(r, c, &r->channel, &r->has_channel);
                break;
            case K_CHANNEL_MEMBERS:
                e = read_members(r, c);
                break;
            default:
                e = DECLINE;
        }
        if (e != OK) return e;
    }
    return e == END ? OK : e;
}

/* One line whose envelope `c` has passed: read into the scratch lists (OK), or not. */
static int read_line(Reader *r, Cur *c, int direct) {
    r->owner_count = r->item_count = r->member_count = 0;
    r->has_team = r->has_channel = 0;
    if (grow((void **)&r->owners, &r->owner_room, 1, sizeof *r->owners) != OK) return FAIL;
    memset(&r->owners[0], 0, sizeof r->owners[0]);
    r->owner_count = 1;
    unsigned wanted = REPLY_WANTED | K_REPLIES | (direct ? K_CHANNEL_MEMBERS : K_TEAM | K_CHANNEL);
    if (r->records) wanted |= K_MESSAGE;
    int e = read_post(r, c, 0, wanted, 1);
    if (e == OK) e = envelope_end(c);
    if (e != OK) return e;
    /* A post outside any channel, or a direct post without members, is Python's; so is, for
     * the records, a post without a date or a message (one the importer cannot identify). */
    if (direct ? r->member_count == 0 : !(r->has_team && r->has_channel)) return DECLINE;
    if (r->records && !(r->owners[0].has_at && r->owners[0].has_message)) return DECLINE;
    return OK;
}

static int reader_init(Reader *r, PyObject *files, int records) {
    const MemberTable *table = NULL;
    if (files != Py_None) {
        table = PyCapsule_GetPointer(files, MEMBER_TABLE_CAPSULE);
        if (table == NULL) return 0;
    }
    r->capsule = Py_NewRef(files);
    r->files = table;
    r->next_file = 0;
    r->records = records;
    return 1;
}

static void reader_free(Reader *r) {
    PyMem_RawFree(r->owners);
    PyMem_RawFree(r->items);
    PyMem_RawFree(r->members);
    PyMem_RawFree(r->key);
    Py_CLEAR(r->capsule);
}

/* Runs `take` (count or record) over batch[start:] for as long as read_line and it accept
 * the lines: the index of the first line they do not take (len(batch) at the end), -1 with an
 * exception set. */
typedef int (*TakeLine)(void *self, int direct, Py_ssize_t line_bytes, Py_ssize_t index);

static Py_ssize_t run_batch(Reader *r, PyObject *batch, Py_ssize_t start, TakeLine take,
                            void *self) {
    Py_ssize_t n = PyList_GET_SIZE(batch), i;
    /* No Python code runs in this loop: the list and its lines stay as they are. */
    for (i = start; i < n; i++) {
        PyObject *raw = PyList_GET_ITEM(batch, i);
        if (!PyBytes_CheckExact(raw)) break;
        Cur c = line_cursor(raw);
        int direct = envelope_start(&c);
        if (direct < 0) break;
        int e = read_line(r, &c, direct);
        if (e == OK) e = take(self, direct, PyBytes_GET_SIZE(raw), i);
        if (e == FAIL) return -1;
        if (e == DECLINE) break;
    }
    return i;
}

/* --- keys ---------------------------------------------------------------------------------- */

static int key_room(Reader *r, size_t more) {
    return grow((void **)&r->key, &r->key_cap, r->key_len + more, 1);
}

/* A string's UTF-8 (unescaped) appended to the key, after its length when `sized`, and
 * lowercased when `lower` (ASCII: plain_ascii holds for it). */
static int key_str(Reader *r, const Str *s, int sized, int lower) {
    if (key_room(r, 4 + (size_t)s->len) != OK) return FAIL;
    size_t at = r->key_len + (sized ? 4 : 0);
    char *out = r->key + at;
    uint32_t n = (uint32_t)(s->escaped ? unescape(s, out) : s->len);
    if (!s->escaped) memcpy(out, s->start, (size_t)s->len);
    if (lower) {
        for (uint32_t j = 0; j < n; j++)
            if (out[j] >= 'A' && out[j] <= 'Z') out[j] = (char)(out[j] + 32);
    }
    if (sized) memcpy(r->key + r->key_len, &n, 4);
    r->key_len = at + n;
    return OK;
}

static inline int ascii_equal_lower(const Str *a, const Str *b) {
    if (a->len != b->len) return 0;
    for (Py_ssize_t k = 0; k < a->len; k++) {
        unsigned char x = a->start[k], y = b->start[k];
        if (x >= 'A' && x <= 'Z') x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z') y = (unsigned char)(y + 32);
        if (x != y) return 0;
    }
    return 1;
}

/* Whether the ASCII members' distinct lowercased names number more than two. */
static int is_group(const Str *members, size_t count) {
    size_t distinct = 0;
    for (size_t i = 0; i < count && distinct <= 2; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) seen = ascii_equal_lower(&members[i], &members[j]);
        distinct += !seen;
    }
    return distinct > 2;
}

/* --- the tables' counts --------------------------------------------------------------------- */

/* The place of the line just read: a channel keyed 'c' + team (length first) + channel, or a
 * DM/GM keyed 'd' + its members as written (each length first). */
static int64_t place_of(Tally *t, int direct) {
    Reader *r = &t->reader;
    int added, e = OK;
    r->key_len = 0;
    if (key_room(r, 1) != OK) return -1;
    r->key[r->key_len++] = direct ? 'd' : 'c';
    if (direct) {
        for (size_t i = 0; e == OK && i < r->member_count; i++) e = key_str(r, &r->members[i], 1, 0);
    } else {
        e = key_str(r, &r->team, 1, 0);
        if (e == OK) e = key_str(r, &r->channel, 0, 0);
    }
    if (e != OK) return -1;
    int64_t id = intern(&t->places, r->key, r->key_len, &added);
    if (id < 0 || !added) return id;
    Place *place = (Place *)t->places.records + id;
    if (direct) {
        place->group = is_group(r->members, r->member_count) ? GROUP_GM : GROUP_DM;
    } else {
        /* Day groups are Python's: one per team as Go lowercases its name (go_lower), so
         * that C never holds more buckets than the Python tally would for the same lines
         * (and widens at the same count). The name is plain ASCII (count_line). */
        uint32_t team_len;
        memcpy(&team_len, r->key + 1, 4);
        char *team_name = r->key + 5;
        for (uint32_t j = 0; j < team_len; j++)
            if (team_name[j] >= 'A' && team_name[j] <= 'Z') team_name[j] = (char)(team_name[j] + 32);
        int64_t team = intern(&t->teams, team_name, team_len, &added);
        if (team < 0) return -1;
        /* (the place's record has not moved: only `teams` grew) */
        place->group = FIRST_TEAM_GROUP + (uint32_t)team;
    }
    return id;
}

static int64_t person_of(Tally *t, const Str *user) {
    int added;
    t->reader.key_len = 0;
    if (key_str(&t->reader, user, 0, 0) != OK) return -1;
    return intern(&t->people, t->reader.key, t->reader.key_len, &added);
}

static inline long long floor_day(long long at) {
    long long day = at / DAY_MS;
    return (at % DAY_MS != 0 && at < 0) ? day - 1 : day;
}

/* The id of the bucket of (a period's first day, a group) in the days table `days`, added
 * when new (counted in `held`, the periods held per group); -1 on error. */
static int64_t hold_key(Table *days, int64_t *held, long long first, uint32_t group) {
    char key[12];
    int added;
    memcpy(key, &first, 8);
    memcpy(key + 8, &group, 4);
    int64_t id = intern(days, key, sizeof key, &added);
    if (id >= 0) held[group] += added;
    return id;
}

/* Whether the days table holds more than the caps allow (TableCounts._hold's test). The Python
 * tally these counts go to holds at least these buckets at this level, so it ends at a wider
 * one: counting here per the next wider period changes none of its figures. */
static int over_caps(const Tally *t) {
    if ((long long)t->days.count > t->buckets_held) return 1;
    for (size_t g = 0; g < t->held_room; g++)
        if (t->held[g] > t->periods_held) return 1;
    return 0;
}

/* Count what the days table holds per the next wider period (and wider, while over the caps). */
static int widen(Tally *t) {
    while (t->starts.level < LEVEL_MOST && over_caps(t)) {
        Starts wider = {t->starts.level + 1, 0, 0};
        Table days = {0};
        days.record_size = sizeof(Bucket);
        memset(t->held, 0, t->held_room * sizeof *t->held);
        for (size_t i = 0; i < t->days.count; i++) {
            long long first;
            uint32_t group;
            memcpy(&first, key_bytes(&t->days, i), 8);
            memcpy(&group, key_bytes(&t->days, i) + 8, 4);
            int64_t id = hold_key(&days, t->held, period_start(&wider, first), group);
            if (id < 0) {
                table_free(&days);
                return FAIL;
            }
            const Bucket *b = (const Bucket *)t->days.records + i;
            Bucket *into = (Bucket *)days.records + id;
            into->posts += b->posts;
            into->replies += b->replies;
            into->files += b->files;
            into->file_bytes += b->file_bytes;
        }
        table_free(&t->days);
        t->days = days;
        t->starts = wider;
    }
    return OK;
}

/* The id of the bucket of the period that holds `at` in `group`, -1 on error; *widened set
 * when the level widened for it (the ids of the buckets taken before are then stale). */
static int64_t bucket_of(Tally *t, long long at, uint32_t group, int *widened) {
    if (group >= t->held_room) {
        size_t room = t->held_room;
        if (grow((void **)&t->held, &t->held_room, (size_t)group + 1, sizeof *t->held) != OK)
            return -1;
        memset(t->held + room, 0, (t->held_room - room) * sizeof *t->held);
    }
    size_t before = t->days.count;
    int64_t id = hold_key(&t->days, t->held, period_start(&t->starts, floor_day(at)), group);
    if (id < 0 || t->days.count == before || t->starts.level >= LEVEL_MOST ||
        (t->held[group] <= t->periods_held && (long long)t->days.count <= t->buckets_held))
        return id;
    if (widen(t) != OK) return -1;
    *widened = 1;
    return hold_key(&t->days, t->held, period_start(&t->starts, floor_day(at)), group);
}

static int add_author(Tally *t, int64_t place, int64_t person) {
    uint32_t key[2] = {(uint32_t)place, (uint32_t)person};
    int added;
    return intern(&t->authors, key, sizeof key, &added) < 0 ? FAIL : OK;
}

/* The lowercase extension of a plain path (an ASCII one), as table_counts.extension gives
 * it: after the
 * last "." of the last element, when something comes before that dot ("" otherwise). */
static int64_t extension_of(Tally *t, const Str *path) {
    const unsigned char *start = path->start, *end = path->start + path->len, *p = end;
    const unsigned char *name = start;
    for (const unsigned char *q = start; q < end; q++)
        if (*q == '/') name = q + 1;
    while (p > name && p[-1] != '.') p--;
    if (p <= name + 1) p = end; /* no dot, or nothing before it */
    Reader *r = &t->reader;
    r->key_len = 0;
    if (key_room(r, (size_t)(end - p)) != OK) return -1;
    for (; p < end; p++) r->key[r->key_len++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    int added;
    return intern(&t->extensions, r->key, r->key_len, &added);
}

/* Count the line just read, as TableCounts._post counts it. */
static int count_line(void *self, int direct, Py_ssize_t line_bytes, Py_ssize_t index) {
    Tally *t = self;
    const Reader *r = &t->reader;
    (void)index;
    LineType *stats = &t->line_types[direct];
    /* A team name Go would lowercase beyond ASCII (or written with escapes) is Python's: its
     * day group is the Go-lowercased name, which C does not compute. */
    if (!direct && !plain_ascii(&r->team)) return DECLINE;
    int64_t place = place_of(t, direct);
    if (place < 0) return FAIL;
    stats->lines++;
    stats->bytes += line_bytes;
    uint32_t group = ((Place *)t->places.records + place)->group;
    /* The buckets first: a new period may widen the level, and the ids of the buckets taken
     * before it with it (then they are taken again). */
    for (int widened = 1; widened;) {
        widened = 0;
        for (size_t k = 0; k < r->owner_count && !widened; k++) {
            Owner *o = &r->owners[k];
            o->bucket = -1;
            if (o->has_at && (o->bucket = bucket_of(t, o->at, group, &widened)) < 0) return FAIL;
        }
    }
    for (size_t k = 0; k < r->owner_count; k++) {
        Owner *o = &r->owners[k];
        o->person = -1;
        if (o->has_user) {
            o->person = person_of(t, &o->user);
            if (o->person < 0 || add_author(t, place, o->person) != OK) return FAIL;
        }
        Place *pl = (Place *)t->places.records + place;
        Bucket *bucket = o->bucket < 0 ? NULL : (Bucket *)t->days.records + o->bucket;
        Person *author = o->person < 0 ? NULL : (Person *)t->people.records + o->person;
        if (author != NULL && o->has_at) span_add(&author->span, o->at);
        if (k == 0) {
            pl->posts++;
            if (o->has_at) span_add(&pl->span, o->at);
            if (bucket != NULL) bucket->posts++;
            if (author != NULL) {
                author->posts++;
                author->direct_posts += direct;
            }
        } else {
            pl->replies++;
            stats->replies++;
            if (bucket != NULL) bucket->replies++;
            if (author != NULL) author->replies++;
        }
    }
    for (size_t i = 0; i < r->item_count; i++) {
        const Item *item = &r->items[i];
        const Owner *o = &r->owners[item->owner];
        if (item->kind == ITEM_REACTION) {
            int64_t person = -1;
            if (item->has_user && (person = person_of(t, &item->user)) < 0) return FAIL;
            Place *pl = (Place *)t->places.records + place;
            pl->reactions++;
            stats->reactions++;
            if (person >= 0) {
                Person *who = (Person *)t->people.records + person;
                who->reactions++;
                if (item->has_at) span_add(&who->span, item->at);
            }
            continue;
        }
        int64_t ext = extension_of(t, &item->path);
        if (ext < 0) return FAIL;
        FileType *type = (FileType *)t->extensions.records + ext;
        uint64_t size = item->found ? item->size : 0;
        type->files++;
        type->missing += !item->found;
        type->bytes += size;
        if (size > type->largest) type->largest = size;
        Place *pl = (Place *)t->places.records + place;
        pl->files++;
        pl->file_bytes += size;
        stats->files++;
        if (o->person >= 0) ((Person *)t->people.records + o->person)->files++;
        if (o->bucket >= 0) {
            Bucket *bucket = (Bucket *)t->days.records + o->bucket;
            bucket->files++;
            bucket->file_bytes += size;
        }
    }
    return OK;
}

/* --- Tally ----------------------------------------------------------------------------------- */

static PyObject *tally_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    PyObject *files;
    long long periods_held, buckets_held;
    static char *names[] = {"files", "periods_held", "buckets_held", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OLL:Tally", names, &files, &periods_held,
                                     &buckets_held))
        return NULL;
    if (periods_held < 1 || buckets_held < 1) {
        PyErr_SetString(PyExc_ValueError, "periods_held and buckets_held must be positive");
        return NULL;
    }
    Tally *t = (Tally *)type->tp_alloc(type, 0);
    if (t == NULL) return NULL;
    t->periods_held = periods_held;
    t->buckets_held = buckets_held;
    if (!reader_init(&t->reader, files, 0)) {
        Py_DECREF(t);
        return NULL;
    }
    t->places.record_size = sizeof(Place);
    t->people.record_size = sizeof(Person);
    t->days.record_size = sizeof(Bucket);
    t->extensions.record_size = sizeof(FileType);
    return (PyObject *)t;
}

static void tally_dealloc(Tally *t) {
    Table *tables[] = {&t->places, &t->people, &t->teams, &t->authors, &t->days, &t->extensions};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) table_free(tables[i]);
    PyMem_RawFree(t->held);
    reader_free(&t->reader);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

/* count(batch, start) -> stop: counts batch[start:] until a line it does not take (any other
 * type, anything unusual, a LineTooLong): the index of that line, len(batch) at the end. */
static PyObject *tally_count(Tally *t, PyObject *const *args, Py_ssize_t nargs) {
    Py_ssize_t start;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "count(batch: list, start: int)");
        return NULL;
    }
    if (!batch_start(args[0], args[1], "count", &start)) return NULL;
    /* Counting runs no Python code and touches no Python object but the batch, which the
     * caller keeps as it is (and `t`, which one thread uses at a time): without the GIL, so
     * that a thread of the report's pass counts while the main one checks the next batch
     * (archivekit/check/table_lines.py). */
    Py_ssize_t stop;
    Py_BEGIN_ALLOW_THREADS
    stop = run_batch(&t->reader, args[0], start, count_line, t);
    Py_END_ALLOW_THREADS
    return stop < 0 ? NULL : PyLong_FromSsize_t(stop);
}

/* --- reconcile's identity records ------------------------------------------------------------
 *
 * archivekit/report/reconcile_read.py (SideReader) defines them: per post, reply, reaction and
 * attachment one 24-byte record (identity hash; kind << 56 | line; place id; user id or file
 * size fingerprint), the identity being archivekit.check.duplicates.post_identity of the
 * importer's identity parts with names lowercased. Place and user ids are the Python side's:
 * a run of lines is read here with ids of its own, then `new_names` lists the places and users
 * it met first (in the order the Python code would have met them), the Python side registers
 * them and `take` hands back the run's records with its ids. */

/* reconcile_read's record kinds, NO_USER and UNKNOWN_SIZE (a test holds them equal). */
enum { R_POST = 1, R_DIRECT_POST = 2, R_REPLY = 3, R_REACTION = 4, R_FILE = 5 };
#define NO_USER 0xFFFFFFFFu
#define UNKNOWN_SIZE 0xFFFFFFFFu
#define KIND_SHIFT 56

/* A place's or a user's Python id (once taken), and the line it was first met on. */
typedef struct {
    uint32_t python_id;
    long long first_line;
} Known;

typedef struct {
    uint64_t hash, tag;
    uint32_t place, extra; /* this object's ids until `take` */
    int user;              /* extra is a user id */
} Pending;

typedef struct {
    PyObject_HEAD
    Reader reader;
    int drop_absent;       /* the archive has files: one absent is not counted (see Python) */
    long long first_line;  /* of batch[0] in the current `read` */
    Table places, people; /* keyed by lowercased names; records: Known */
    size_t places_taken, people_taken; /* ids below these have their Python ids */
    Pending *pending;
    size_t pending_count, pending_room;
    long long files_absent;
    size_t *order, *starts; /* a line's items by owner */
    size_t order_room, starts_room;
} Records;

static int emit(Records *rc, uint64_t hash, int kind, long long line, int64_t place, uint32_t extra,
                int user) {
    if (grow((void **)&rc->pending, &rc->pending_room, rc->pending_count + 1, sizeof *rc->pending) != OK)
        return FAIL;
    rc->pending[rc->pending_count++] =
        (Pending){hash, ((uint64_t)kind << KIND_SHIFT) | (uint64_t)line, (uint32_t)place, extra, user};
    return OK;
}

/* The id of a user's lowercased name (new ones remember `line`). */
static int64_t user_of(Records *rc, const Str *user, long long line) {
    Reader *r = &rc->reader;
    int added;
    r->key_len = 0;
    if (key_str(r, user, 0, 1) != OK) return -1;
    int64_t id = intern(&rc->people, r->key, r->key_len, &added);
    if (id >= 0 && added) ((Known *)rc->people.records + id)->first_line = line;
    return id;
}

/* An int part of an identity, as encode_identity writes a Python int: a digest above
 * INT64_MAX is no int64, so it goes in as the text of its repr. */
static int identity_u64(Encoding *e, uint64_t value) {
    if (value <= (uint64_t)INT64_MAX) return identity_int(e, (long long)value);
    char text[24];
    int n = snprintf(text, sizeof text, "%llu", (unsigned long long)value);
    if (encoding_room(e, 9 + (size_t)n) != OK) return FAIL;
    put_kind(e, 'r', (uint64_t)n);
    memcpy(e->data + e->len, text, (size_t)n);
    e->len += (size_t)n;
    return OK;
}

/* The digest of the encoding built in `e` (freed); FAIL when building it failed. */
static int digest_of(Encoding *e, int built, uint64_t *out) {
    if (built == OK) *out = xxh64(e->data, e->len);
    encoding_free(e);
    return built;
}

/* Order a line's items by owner, keeping their order (counting sort): the items of owner k are
 * order[starts[k] .. starts[k + 1]). */
static int order_items(Records *rc) {
    const Reader *r = &rc->reader;
    if (grow((void **)&rc->starts, &rc->starts_room, r->owner_count + 1, sizeof *rc->starts) != OK ||
        grow((void **)&rc->order, &rc->order_room, r->item_count, sizeof *rc->order) != OK)
        return FAIL;
    memset(rc->starts, 0, (r->owner_count + 1) * sizeof *rc->starts);
    for (size_t i = 0; i < r->item_count; i++) rc->starts[r->items[i].owner + 1]++;
    for (size_t k = 0; k < r->owner_count; k++) rc->starts[k + 1] += rc->starts[k];
    for (size_t i = 0; i < r->item_count; i++) rc->order[rc->starts[r->items[i].owner]++] = i;
    /* starts[k] now ends owner k's items: shift back to where they begin. */
    for (size_t k = r->owner_count; k > 0; k--) rc->starts[k] = rc->starts[k - 1];
    rc->starts[0] = 0;
    return OK;
}

/* The reactions, then the files of owner k (parent: its identity), as SideReader._children
 * spools them. */
static int record_items(Records *rc, size_t k, long long line, int64_t place) {
    const Reader *r = &rc->reader;
    uint64_t parent = r->owners[k].digest;
    for (int pass = ITEM_REACTION; pass <= ITEM_FILE; pass++) {
        for (size_t j = rc->starts[k]; j < rc->starts[k + 1]; j++) {
            const Item *item = &r->items[rc->order[j]];
            if (item->kind != pass) continue;
            Encoding e;
            uint64_t digest;
            int built;
            encoding_init(&e);
            if (pass == ITEM_REACTION) {
                if (!(item->has_user && item->has_emoji)) continue;
                int64_t user = user_of(rc, &item->user, line);
                if (user < 0) {
                    encoding_free(&e);
                    return FAIL;
                }
                const char *name = rc->reader.key; /* the lowercased name user_of built */
                built = identity_bytes(&e, "reaction", 8);
                if (built == OK) built = identity_u64(&e, parent);
                if (built == OK) built = identity_bytes(&e, name, (Py_ssize_t)rc->reader.key_len);
                if (built == OK) built = identity_raw(&e, &item->emoji);
                if (digest_of(&e, built, &digest) != OK ||
                    emit(rc, digest, R_REACTION, line, place, (uint32_t)user, 1) != OK)
                    return FAIL;
                continue;
            }
            uint32_t fingerprint = UNKNOWN_SIZE;
            if (item->found) {
                fingerprint = (uint32_t)(item->size & 0xFFFFFFFFu);
            } else if (rc->drop_absent) { /* as reconcile_read's `_files` */
                rc->files_absent++;
                encoding_free(&e);
                continue;
            }
            /* The file's name: the last element of its (plain: NFC) path. */
            const unsigned char *end = item->path.start + item->path.len, *name = end;
            while (name > item->path.start && name[-1] != '/') name--;
            built = identity_bytes(&e, "attachment", 10);
            if (built == OK) built = identity_u64(&e, parent);
            if (built == OK) built = identity_bytes(&e, (const char *)name, end - name);
            if (digest_of(&e, built, &digest) != OK ||
                emit(rc, digest, R_FILE, line, place, fingerprint, 0) != OK)
                return FAIL;
        }
    }
    return OK;
}

/* The ASCII members' key as members_key makes it: distinct lowercased names, sorted, joined
 * by ","; into the key buffer after its first byte. */
static int members_key(Reader *r) {
    size_t n = r->member_count, sorted[MAX_MEMBERS];
    for (size_t i = 0; i < n; i++) { /* insertion sort by lowercased name */
        size_t j = i;
        while (j > 0) {
            const Str *a = &r->members[sorted[j - 1]], *b = &r->members[i];
            Py_ssize_t k = 0, m = a->len < b->len ? a->len : b->len;
            int cmp = 0;
            for (; k < m && cmp == 0; k++) {
                unsigned char x = a->start[k], y = b->start[k];
                if (x >= 'A' && x <= 'Z') x = (unsigned char)(x + 32);
                if (y >= 'A' && y <= 'Z') y = (unsigned char)(y + 32);
                cmp = (int)x - (int)y;
            }
            if (cmp == 0) cmp = a->len < b->len ? -1 : (a->len > b->len);
            if (cmp <= 0) break;
            sorted[j] = sorted[j - 1];
            j--;
        }
        sorted[j] = i;
    }
    for (size_t i = 0; i < n; i++) {
        const Str *name = &r->members[sorted[i]];
        if (i > 0 && ascii_equal_lower(name, &r->members[sorted[i - 1]])) continue;
        if (i > 0) { /* (the first name is always written: "" too) */
            if (key_room(r, 1) != OK) return FAIL;
            r->key[r->key_len++] = ',';
        }
        if (key_str(r, name, 0, 1) != OK) return FAIL;
    }
    return OK;
}

/* The records of the line just read, in SideReader's order: the post, its reactions and
 * files, then each reply (one with a date and a message) with its reactions and files. */
static int record_line(void *self, int direct, Py_ssize_t line_bytes, Py_ssize_t index) {
    Records *rc = self;
    Reader *r = &rc->reader;
    (void)line_bytes;
    long long line = rc->first_line + (long long)index;
    if (line < 1 || line >= (1LL << KIND_SHIFT)) return DECLINE;
    /* Where it is: 'c' + team (length first) + channel, or 'd' + the members' key. */
    r->key_len = 0;
    if (key_room(r, 1) != OK) return FAIL;
    r->key[r->key_len++] = direct ? 'd' : 'c';
    int built = direct ? members_key(r) : key_str(r, &r->team, 1, 1);
    if (built == OK && !direct) built = key_str(r, &r->channel, 0, 1);
    if (built != OK) return FAIL;
    int added;
    int64_t place = intern(&rc->places, r->key, r->key_len, &added);
    if (place < 0) return FAIL;
    if (added) ((Known *)rc->places.records + place)->first_line = line;
    Owner *post = &r->owners[0];
    Encoding e;
    encoding_init(&e);
    if (direct) {
        built = identity_bytes(&e, "direct_post", 11);
        if (built == OK) built = identity_bytes(&e, r->key + 1, (Py_ssize_t)r->key_len - 1);
    } else {
        uint32_t team_len;
        memcpy(&team_len, r->key + 1, 4);
        built = identity_bytes(&e, "post", 4);
        if (built == OK) built = identity_bytes(&e, r->key + 5, team_len);
        if (built == OK) built = identity_bytes(&e, r->key + 5 + team_len, (Py_ssize_t)(r->key_len - 5 - team_len));
    }
    if (built == OK) built = identity_int(&e, post->at);
    if (built == OK) built = identity_raw(&e, &post->message);
    if (digest_of(&e, built, &post->digest) != OK || order_items(rc) != OK) return FAIL;
    for (size_t k = 0; k < r->owner_count; k++) {
        Owner *o = &r->owners[k];
        if (k > 0) {
            if (!(o->has_at && o->has_message)) continue; /* SideReader skips it, and all it has */
            /* The importer stores a reply older than its post at the post's time. */
            encoding_init(&e);
            built = identity_bytes(&e, "reply", 5);
            if (built == OK) built = identity_u64(&e, post->digest);
            if (built == OK) built = identity_int(&e, o->at > post->at ? o->at : post->at);
            if (built == OK) built = identity_raw(&e, &o->message);
            if (digest_of(&e, built, &o->digest) != OK) return FAIL;
        }
        uint32_t author = NO_USER;
        if (o->has_user) {
            int64_t user = user_of(rc, &o->user, line);
            if (user < 0) return FAIL;
            author = (uint32_t)user;
        }
        int kind = k > 0 ? R_REPLY : (direct ? R_DIRECT_POST : R_POST);
        if (emit(rc, o->digest, kind, line, place, author, o->has_user) != OK ||
            record_items(rc, k, line, place) != OK)
            return FAIL;
    }
    return OK;
}

/* --- the counts, for Python ----------------------------------------------------------------- */

static PyObject *span_value(const Span *s, int first) {
    if (!s->seen) Py_RETURN_NONE;
    return PyLong_FromLongLong(first ? s->first_at : s->last_at);
}

static PyObject *key_str_object(const char *p, uint32_t n) {
    return PyUnicode_DecodeUTF8(p, (Py_ssize_t)n, NULL);
}

/* A place's names: (team, channel) or the members as written. */
static PyObject *place_names(const Table *places, size_t id) {
    const char *p = key_bytes(places, id), *end = p + places->keys[id].len;
    int direct = *p++ == 'd';
    PyObject *names = PyList_New(0);
    if (names == NULL) return NULL;
    while (p < end) {
        uint32_t n = (uint32_t)(end - p);
        if (direct || PyList_GET_SIZE(names) == 0) {
            memcpy(&n, p, 4);
            p += 4;
        }
        PyObject *name = key_str_object(p, n);
        if (name == NULL || PyList_Append(names, name) < 0) {
            Py_XDECREF(name);
            Py_DECREF(names);
            return NULL;
        }
        Py_DECREF(name);
        p += n;
    }
    /* A channel with an empty name: its key ends after the team. */
    if (!direct && PyList_GET_SIZE(names) == 1) {
        PyObject *empty = PyUnicode_FromStringAndSize("", 0);
        if (empty == NULL || PyList_Append(names, empty) < 0) {
            Py_XDECREF(empty);
            Py_DECREF(names);
            return NULL;
        }
        Py_DECREF(empty);
    }
    PyObject *tuple = PyList_AsTuple(names);
    Py_DECREF(names);
    return tuple;
}

/* Append `item` (a new reference, NULL on error) to `list`; -1 on error. */
static int append_new(PyObject *list, PyObject *item) {
    if (item == NULL) return -1;
    int r = PyList_Append(list, item);
    Py_DECREF(item);
    return r;
}

/* held() -> (level, buckets): the period level of the days table and the buckets it holds. */
static PyObject *tally_held(Tally *t, PyObject *unused) {
    (void)unused;
    return Py_BuildValue("(in)", t->starts.level, (Py_ssize_t)t->days.count);
}

/* counts() -> (line_types, places, people, authors, teams, days, file_types, level); see
 * archivekit/check/table_counts.py (TableCounts.add_counted) for the shapes. */
static PyObject *tally_counts(Tally *t, PyObject *unused) {
    (void)unused;
    PyObject *places = PyList_New(0), *people = PyList_New(0), *authors = PyList_New(0);
    PyObject *teams = PyList_New(0), *days = PyList_New(0), *types = PyList_New(0);
    PyObject *result = NULL;
    if (!places || !people || !authors || !teams || !days || !types) goto done;
    for (size_t i = 0; i < t->places.count; i++) {
        const Place *p = (const Place *)t->places.records + i;
        int kind = p->group == GROUP_DM ? 1 : (p->group == GROUP_GM ? 2 : 0);
        if (append_new(places, Py_BuildValue("(NiLLLLKNN)", place_names(&t->places, i), kind,
                                             (long long)p->posts, (long long)p->replies,
                                             (long long)p->reactions, (long long)p->files,
                                             (unsigned long long)p->file_bytes,
                                             span_value(&p->span, 1),
                                             span_value(&p->span, 0))) < 0)
            goto done;
    }
    for (size_t i = 0; i < t->people.count; i++) {
        const Person *p = (const Person *)t->people.records + i;
        if (append_new(people, Py_BuildValue("(NLLLLLNN)",
                                             key_str_object(key_bytes(&t->people, i), t->people.keys[i].len),
                                             (long long)p->posts, (long long)p->direct_posts,
                                             (long long)p->replies, (long long)p->reactions,
                                             (long long)p->files, span_value(&p->span, 1),
                                             span_value(&p->span, 0))) < 0)
            goto done;
    }
    for (size_t i = 0; i < t->authors.count; i++) {
        uint32_t pair[2];
        memcpy(pair, key_bytes(&t->authors, i), sizeof pair);
        if (append_new(authors, Py_BuildValue("(II)", pair[0], pair[1])) < 0) goto done;
    }
    for (size_t i = 0; i < t->teams.count; i++) {
        if (append_new(teams, key_str_object(key_bytes(&t->teams, i), t->teams.keys[i].len)) < 0)
            goto done;
    }
    for (size_t i = 0; i < t->days.count; i++) {
        const Bucket *b = (const Bucket *)t->days.records + i;
        long long day;
        uint32_t group;
        memcpy(&day, key_bytes(&t->days, i), 8);
        memcpy(&group, key_bytes(&t->days, i) + 8, 4);
        if (append_new(days, Py_BuildValue("(LILLLK)", day, group, (long long)b->posts,
                                           (long long)b->replies, (long long)b->files,
                                           (unsigned long long)b->file_bytes)) < 0)
            goto done;
    }
    for (size_t i = 0; i < t->extensions.count; i++) {
        const FileType *f = (const FileType *)t->extensions.records + i;
        if (append_new(types, Py_BuildValue("(NLKLK)",
                                            key_str_object(key_bytes(&t->extensions, i),
                                                           t->extensions.keys[i].len),
                                            (long long)f->files, (unsigned long long)f->bytes,
                                            (long long)f->missing,
                                            (unsigned long long)f->largest)) < 0)
            goto done;
    }
    const LineType *l = t->line_types;
    result = Py_BuildValue("((LLLLL)(LLLLL))OOOOOOi", (long long)l[0].lines, (long long)l[0].bytes,
                           (long long)l[0].replies, (long long)l[0].reactions, (long long)l[0].files,
                           (long long)l[1].lines, (long long)l[1].bytes, (long long)l[1].replies,
                           (long long)l[1].reactions, (long long)l[1].files, places, people, authors,
                           teams, days, types, t->starts.level);
done:
    Py_XDECREF(places);
    Py_XDECREF(people);
    Py_XDECREF(authors);
    Py_XDECREF(teams);
    Py_XDECREF(days);
    Py_XDECREF(types);
    return result;
}

static PyMethodDef tally_methods[] = {
    {"count", (PyCFunction)(void (*)(void))tally_count, METH_FASTCALL,
     "count(batch, start) -> int: count the post and direct_post lines from batch[start] until "
     "one this does not take; returns its index (len(batch) when all were counted)."},
    {"held", (PyCFunction)(void (*)(void))tally_held, METH_NOARGS,
     "held() -> (level, buckets): the period level (archivekit/check/periods.py) the days "
     "are counted by, and the buckets held."},
    {"counts", (PyCFunction)(void (*)(void))tally_counts, METH_NOARGS,
     "counts() -> tuple: everything counted so far, keyed by names as written (see "
     "archivekit/check/table_counts.py, TableCounts.add_counted)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject TallyType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "archivekit.check.fast._report.Tally",
    .tp_basicsize = sizeof(Tally),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Tally(files, periods_held, buckets_held): the tables' counts of post lines; "
              "`files` is the member index's table capsule (None: lines with attachments are "
              "left to Python); the caps of the days table (table_counts.PERIODS_HELD, "
              "BUCKETS_HELD).",
    .tp_new = tally_new,
    .tp_dealloc = (destructor)tally_dealloc,
    .tp_methods = tally_methods,
};

/* --- Records -------------------------------------------------------------------------------- */

static PyObject *records_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    PyObject *files;
    int drop_absent;
    static char *names[] = {"files", "drop_absent", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "Op:Records", names, &files, &drop_absent))
        return NULL;
    Records *rc = (Records *)type->tp_alloc(type, 0);
    if (rc == NULL) return NULL;
    if (!reader_init(&rc->reader, files, 1)) {
        Py_DECREF(rc);
        return NULL;
    }
    rc->drop_absent = drop_absent;
    rc->places.record_size = sizeof(Known);
    rc->people.record_size = sizeof(Known);
    return (PyObject *)rc;
}

static void records_dealloc(Records *rc) {
    table_free(&rc->places);
    table_free(&rc->people);
    PyMem_RawFree(rc->pending);
    PyMem_RawFree(rc->order);
    PyMem_RawFree(rc->starts);
    reader_free(&rc->reader);
    Py_TYPE(rc)->tp_free((PyObject *)rc);
}

/* read(batch, start, first_line) -> stop: the records of batch[start:] (batch[0] is line
 * `first_line`) until a line this does not take; the index of that line. */
static PyObject *records_read(Records *rc, PyObject *const *args, Py_ssize_t nargs) {
    Py_ssize_t start;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "read(batch: list, start: int, first_line: int)");
        return NULL;
    }
    if (!batch_start(args[0], args[1], "read", &start)) return NULL;
    rc->first_line = PyLong_AsLongLong(args[2]);
    if (rc->first_line == -1 && PyErr_Occurred()) return NULL;
    Py_ssize_t stop = run_batch(&rc->reader, args[0], start, record_line, rc);
    return stop < 0 ? NULL : PyLong_FromSsize_t(stop);
}

/* A place key as SideReader keys it: (team, channel), or ("", members) for a DM/GM. */
static PyObject *place_key(const Table *places, size_t id) {
    const char *p = key_bytes(places, id);
    uint32_t n = places->keys[id].len;
    if (p[0] == 'd') return Py_BuildValue("(s#N)", "", (Py_ssize_t)0, key_str_object(p + 1, n - 1));
    uint32_t team_len;
    memcpy(&team_len, p + 1, 4);
    return Py_BuildValue("(NN)", key_str_object(p + 5, team_len),
                         key_str_object(p + 5 + team_len, n - 5 - team_len));
}

/* new_names() -> (places, direct_lines, users): the places and users the lines read since the
 * last `take` met first, in the order met; direct_lines[i] the line a DM/GM place was first met
 * on, None for a channel. */
static PyObject *records_new_names(Records *rc, PyObject *unused) {
    (void)unused;
    PyObject *places = PyList_New(0), *lines = PyList_New(0), *users = PyList_New(0), *result = NULL;
    if (places == NULL || lines == NULL || users == NULL) goto done;
    for (size_t i = rc->places_taken; i < rc->places.count; i++) {
        const Known *known = (const Known *)rc->places.records + i;
        int direct = key_bytes(&rc->places, i)[0] == 'd';
        if (append_new(places, place_key(&rc->places, i)) < 0) goto done;
        /* A channel of team "" has a key like a DM's: only DMs/GMs have a line here. */
        if (append_new(lines, direct ? PyLong_FromLongLong(known->first_line) : Py_NewRef(Py_None)) < 0)
            goto done;
    }
    for (size_t i = rc->people_taken; i < rc->people.count; i++) {
        if (append_new(users, key_str_object(key_bytes(&rc->people, i), rc->people.keys[i].len)) < 0)
            goto done;
    }
    result = PyTuple_Pack(3, places, lines, users);
done:
    Py_XDECREF(places);
    Py_XDECREF(lines);
    Py_XDECREF(users);
    return result;
}

/* The Python ids of the names new_names listed, from a list of ints. */
static int assign(Table *t, size_t *taken, PyObject *ids) {
    if (!PyList_Check(ids) || (size_t)PyList_GET_SIZE(ids) != t->count - *taken) {
        PyErr_SetString(PyExc_ValueError, "take() needs one id for each new name");
        return 0;
    }
    for (size_t i = *taken; i < t->count; i++) {
        unsigned long id = PyLong_AsUnsignedLong(PyList_GET_ITEM(ids, (Py_ssize_t)(i - *taken)));
        if (id == (unsigned long)-1 && PyErr_Occurred()) return 0;
        if (id >= NO_USER) {
            PyErr_SetString(PyExc_OverflowError, "take() ids must be below 2**32 - 1");
            return 0;
        }
        ((Known *)t->records + i)->python_id = (uint32_t)id;
    }
    *taken = t->count;
    return 1;
}

/* take(place_ids, user_ids) -> (hashes, tags, places, extras, files_absent): the Python ids
 * of the names new_names listed; the records read since the last take, with those ids, as
 * packed columns (uint64, uint64, uint32, uint32) for the spool, and the files absent
 * from the archive among them. */
static PyObject *records_take(Records *rc, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "take(place_ids: list, user_ids: list)");
        return NULL;
    }
    if (!assign(&rc->places, &rc->places_taken, args[0]) ||
        !assign(&rc->people, &rc->people_taken, args[1]))
        return NULL;
    Py_ssize_t n = (Py_ssize_t)rc->pending_count;
    PyObject *hashes = PyBytes_FromStringAndSize(NULL, n * 8);
    PyObject *tags = PyBytes_FromStringAndSize(NULL, n * 8);
    PyObject *places = PyBytes_FromStringAndSize(NULL, n * 4);
    PyObject *extras = PyBytes_FromStringAndSize(NULL, n * 4);
    if (hashes == NULL || tags == NULL || places == NULL || extras == NULL) {
        Py_XDECREF(hashes);
        Py_XDECREF(tags);
        Py_XDECREF(places);
        Py_XDECREF(extras);
        return NULL;
    }
    uint64_t *hash = (uint64_t *)PyBytes_AS_STRING(hashes), *tag = (uint64_t *)PyBytes_AS_STRING(tags);
    uint32_t *place = (uint32_t *)PyBytes_AS_STRING(places), *extra = (uint32_t *)PyBytes_AS_STRING(extras);
    for (Py_ssize_t i = 0; i < n; i++) {
        const Pending *pending = &rc->pending[i];
        hash[i] = pending->hash;
        tag[i] = pending->tag;
        place[i] = ((const Known *)rc->places.records + pending->place)->python_id;
        extra[i] = pending->user ? ((const Known *)rc->people.records + pending->extra)->python_id
                                 : pending->extra;
    }
    long long absent = rc->files_absent;
    rc->pending_count = 0;
    rc->files_absent = 0;
    return Py_BuildValue("(NNNNL)", hashes, tags, places, extras, absent);
}

static PyMethodDef records_methods[] = {
    {"read", (PyCFunction)(void (*)(void))records_read, METH_FASTCALL,
     "read(batch, start, first_line) -> int: read the post and direct_post lines from "
     "batch[start] (batch[0] being line first_line) until one this does not take; returns its "
     "index (len(batch) when all were read)."},
    {"new_names", (PyCFunction)(void (*)(void))records_new_names, METH_NOARGS,
     "new_names() -> (places, direct_lines, users): the places and users met first since the "
     "last take, in the order met (direct_lines: a DM/GM's first line, None for a channel)."},
    {"take", (PyCFunction)(void (*)(void))records_take, METH_FASTCALL,
     "take(place_ids, user_ids) -> (hashes, tags, places, extras, files_absent): the records "
     "read since the last take, with the Python ids of the new names."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject RecordsType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "archivekit.check.fast._report.Records",
    .tp_basicsize = sizeof(Records),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Records(files, drop_absent): reconcile's identity records of post lines (see "
              "archivekit/report/reconcile_read.py); `files` as for Tally, `drop_absent` whether "
              "an attachment whose file is not among them is left out (the archive has files).",
    .tp_new = records_new,
    .tp_dealloc = (destructor)records_dealloc,
    .tp_methods = records_methods,
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "archivekit.check.fast._report",
    "What the report reads from post lines, in C: the tables' counts and reconcile's records.", -1,
    NULL,
};

PyMODINIT_FUNC PyInit__report(void) {
    jsonline_init();
    if (PyType_Ready(&TallyType) < 0 || PyType_Ready(&RecordsType) < 0) return NULL;
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL) return NULL;
#ifndef SOURCE_SHA256
#define SOURCE_SHA256 "unknown"
#endif
    PyObject *kinds = Py_BuildValue("(iiiii)", R_POST, R_DIRECT_POST, R_REPLY, R_REACTION, R_FILE);
    /* Which source this was built from: a test compares it with the files (stale builds). */
    if (kinds == NULL || PyModule_AddStringConstant(module, "SOURCE_SHA256", SOURCE_SHA256) < 0 ||
        PyModule_AddObjectRef(module, "Tally", (PyObject *)&TallyType) < 0 ||
        PyModule_AddObjectRef(module, "Records", (PyObject *)&RecordsType) < 0 ||
        PyModule_AddObjectRef(module, "RECORD_KINDS", kinds) < 0 ||
        PyModule_AddIntConstant(module, "NO_USER", NO_USER) < 0 ||
        PyModule_AddIntConstant(module, "UNKNOWN_SIZE", UNKNOWN_SIZE) < 0) {
        Py_XDECREF(kinds);
        Py_DECREF(module);
        return NULL;
    }
    Py_DECREF(kinds);
    return module;
}
