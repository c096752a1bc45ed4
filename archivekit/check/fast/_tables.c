/*
 * archivekit.check.fast._tables: the tables' counting (archivekit/report/table_counts.py) of
 * post and direct_post lines, in C.
 *
 * The contract of the fast path (archivekit/check/fast/fastpath.py): a line is counted here
 * only when every figure it adds is the one `TableCounts.add` would add for it; on anything
 * unusual (a field of another type, an escaped key, a repeated key, a non-ASCII DM member or
 * attachment path, a number orjson might read otherwise) the run stops at that line and the
 * Python path counts it from scratch. Every figure is a sum, a minimum, a maximum or a set
 * union, so the lines counted here and those counted in Python add up to one Python pass,
 * whatever the order: tests hold the two to identical tables.
 *
 * What this keeps is keyed by the names as written (teams, channels, users, DM/GM member
 * lists); the Python side folds the spellings into Go's lowercase when it takes the counts,
 * as its own caches do. DM/GM members are ASCII here, so whether a list is a DM or a GM (its
 * distinct lowercased names) is decided here too, for the days table. Memory grows with the
 * number of channels, member lists, users, days per team and file extensions, never with the
 * number of posts: a line is read into a scratch list of its post, replies, reactions and
 * files (pointers into the line), then counted once it has been read to its end.
 *
 * Input is hostile: the lexer (_jsonline.h) bounds-checks every read; nesting is bounded by
 * the fixed shape (post -> replies -> reactions, files) and by skip_value's depth limit.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

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

static void table_free(Table *t) {
    PyMem_Free(t->bytes);
    PyMem_Free(t->keys);
    PyMem_Free(t->records);
    PyMem_Free(t->slots);
    memset(t, 0, sizeof *t);
}

static int table_rehash(Table *t, size_t slots) {
    uint32_t *fresh = PyMem_Calloc(slots, sizeof *fresh);
    if (fresh == NULL) {
        PyErr_NoMemory();
        return FAIL;
    }
    for (size_t id = 0; id < t->count; id++) {
        size_t i = (size_t)t->keys[id].hash & (slots - 1);
        while (fresh[i] != 0) i = (i + 1) & (slots - 1);
        fresh[i] = (uint32_t)(id + 1);
    }
    PyMem_Free(t->slots);
    t->slots = fresh;
    t->mask = slots - 1;
    return OK;
}

/* Room for `need` items of `size` bytes in *data (allocated even for none: no NULL buffers). */
static int grow(void **data, size_t *cap, size_t need, size_t size) {
    if (need <= *cap && *data != NULL) return OK;
    size_t cap2 = *cap ? *cap : 64;
    while (cap2 < need) cap2 *= 2;
    void *grown = PyMem_Realloc(*data, cap2 * size);
    if (grown == NULL) {
        PyErr_NoMemory();
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
        PyErr_SetString(PyExc_OverflowError, "too many table keys");
        return -1;
    }
    if (t->slots == NULL || (t->count + 1) * 4 > (t->mask + 1) * 3) {
        if (table_rehash(t, t->slots == NULL ? 64 : (t->mask + 1) * 2) != OK) return -1;
    }
    if (t->count == t->room) {
        size_t room = t->room ? t->room * 2 : 64;
        KeyRef *keys = PyMem_Realloc(t->keys, room * sizeof *keys);
        if (keys == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        t->keys = keys;
        if (t->record_size > 0) {
            char *records = PyMem_Realloc(t->records, room * t->record_size);
            if (records == NULL) {
                PyErr_NoMemory();
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
    int64_t person, bucket; /* ids once counted, -1 for none */
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
    uint64_t size; /* file */
    int found;
    const unsigned char *ext;
    Py_ssize_t ext_len;
} Item;

typedef struct {
    PyObject_HEAD
    PyObject *capsule; /* keeps `files` alive (None: lines with files go to Python) */
    const MemberTable *files;
    Table places, people, teams, authors, days, extensions;
    LineType line_types[2]; /* post, direct_post */
    /* the line being read */
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
} Tally;

/* --- reading ------------------------------------------------------------------------------ */

/* A username: a string (has 1), or null (has 0). */
static int read_user(Cur *c, Str *user, int *has) {
    *has = 0;
    if (is_null(c)) return OK;
    if (scan_string(c, user) != OK) return DECLINE;
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

static int new_item(Tally *t, int kind, size_t owner, Item **out) {
    if (grow((void **)&t->items, &t->item_room, t->item_count + 1, sizeof *t->items) != OK) return FAIL;
    Item *item = &t->items[t->item_count++];
    memset(item, 0, sizeof *item);
    item->kind = kind;
    item->owner = owner;
    *out = item;
    return OK;
}

/* reactions: null, or a list of objects (user, create_at; other keys skipped). */
static int read_reactions(Tally *t, Cur *c, size_t owner, int depth) {
    int first = 1, r;
    if (is_null(c)) return OK;
    if (!open_container(c, '[')) return DECLINE;
    while ((r = next_element(c, &first)) == OK) {
        Item *item;
        if (!open_container(c, '{')) return DECLINE;
        if ((r = new_item(t, ITEM_REACTION, owner, &item)) != OK) return r;
        unsigned seen = 0;
        int member_first = 1, m;
        Str key;
        while ((m = next_member(c, &member_first, &key)) == OK) {
            unsigned bit = key_bit(&key) & (K_USER | K_CREATE_AT);
            if (bit == 0) {
                m = skip_value(c, depth + 1);
            } else if (seen & bit) {
                return DECLINE; /* orjson keeps the last of repeated keys: Python's */
            } else {
                seen |= bit;
                /* `item` stays valid: nothing is added to the list while it is read. */
                m = bit == K_USER ? read_user(c, &item->user, &item->has_user)
                                  : read_at(c, &item->at, &item->has_at);
            }
            if (m != OK) return m;
        }
        if (m != END) return m;
    }
    return r == END ? OK : r;
}

/* The lowercase extension of an ASCII path, as table_counts.extension gives it: after the
 * last "." of the last element, when something comes before that dot ("" otherwise). */
static void path_extension(const Str *path, Item *item) {
    const unsigned char *start = path->start, *end = path->start + path->len, *p = end;
    const unsigned char *name = start;
    for (const unsigned char *q = start; q < end; q++)
        if (*q == '/') name = q + 1;
    while (p > name && p[-1] != '.') p--;
    if (p > name + 1) { /* a dot at p - 1 with a stem before it */
        item->ext = p;
        item->ext_len = end - p;
    } else {
        item->ext = end;
        item->ext_len = 0;
    }
}

/* attachments: null, or a list of objects whose "path" (other keys skipped) is null, "" (no
 * file, as in Python) or a path the server joins to data/ unchanged (plain_path), looked up
 * in the member index as the server looks it up. */
static int read_files(Tally *t, Cur *c, size_t owner, int depth) {
    int first = 1, r;
    if (is_null(c)) return OK;
    if (!open_container(c, '[')) return DECLINE;
    while ((r = next_element(c, &first)) == OK) {
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
        if (t->files == NULL || !plain_path(&path)) return DECLINE;
        char name[5 + MAX_PATH_BYTES];
        memcpy(name, "data/", 5);
        memcpy(name + 5, path.start, (size_t)path.len);
        int64_t found = member_table_find(t->files, name, 5 + (size_t)path.len);
        Item *item;
        if ((r = new_item(t, ITEM_FILE, owner, &item)) != OK) return r;
        if (found >= 0 && !(t->files->records[found].bits & MB_DIR)) {
            item->size = t->files->records[found].size;
            if (item->size >= MAX_FILE_BYTES) return DECLINE;
            item->found = 1;
        }
        path_extension(&path, item);
    }
    return r == END ? OK : r;
}

/* A post or a reply: user, create_at, reactions, attachments (and, for the post, where it is
 * and its replies); other keys skipped. */
static int read_post(Tally *t, Cur *c, size_t owner, unsigned wanted, int depth);

static int read_replies(Tally *t, Cur *c, int depth) {
    int first = 1, r;
    if (is_null(c)) return OK;
    if (!open_container(c, '[')) return DECLINE;
    while ((r = next_element(c, &first)) == OK) {
        if (grow((void **)&t->owners, &t->owner_room, t->owner_count + 1, sizeof *t->owners) != OK)
            return FAIL;
        size_t owner = t->owner_count++;
        memset(&t->owners[owner], 0, sizeof t->owners[owner]);
        r = read_post(t, c, owner, K_USER | K_CREATE_AT | K_REACTIONS | K_ATTACHMENTS, depth + 1);
        if (r != OK) return r;
    }
    return r == END ? OK : r;
}

/* channel_members: a non-empty list of ASCII strings without escapes (so that Go's
 * lowercase is ASCII's, and a DM is told from a GM here). */
static int read_members(Tally *t, Cur *c) {
    int first = 1, r;
    if (!open_container(c, '[')) return DECLINE;
    while ((r = next_element(c, &first)) == OK) {
        Str name;
        if (t->member_count == MAX_MEMBERS || scan_string(c, &name) != OK || name.escaped ||
            name.runes != name.len)
            return DECLINE;
        if (grow((void **)&t->members, &t->member_room, t->member_count + 1, sizeof *t->members) != OK)
            return FAIL;
        t->members[t->member_count++] = name;
    }
    if (r != END) return r;
    return t->member_count > 0 ? OK : DECLINE;
}

static int read_post(Tally *t, Cur *c, size_t owner, unsigned wanted, int depth) {
    unsigned seen = 0;
    int first = 1, r;
    Str key;
    if (!open_container(c, '{')) return DECLINE;
    /* next_member declines escaped keys: one could spell a wanted key (Python's). */
    while ((r = next_member(c, &first, &key)) == OK) {
        unsigned bit = key_bit(&key) & wanted;
        if (bit != 0 && (seen & bit)) return DECLINE;
        seen |= bit;
        Owner *o = &t->owners[owner]; /* re-read: replies grow the list */
        switch (bit) {
            case 0:
                r = skip_value(c, depth + 1);
                break;
            case K_USER:
                r = read_user(c, &o->user, &o->has_user);
                break;
            case K_CREATE_AT:
                r = read_at(c, &o->at, &o->has_at);
                break;
            case K_REACTIONS:
                r = read_reactions(t, c, owner, depth + 1);
                break;
            case K_ATTACHMENTS:
                r = read_files(t, c, owner, depth + 1);
                break;
            case K_REPLIES:
                r = read_replies(t, c, depth + 1);
                break;
            case K_TEAM:
                t->has_team = 1;
                r = scan_string(c, &t->team);
                break;
            case K_CHANNEL:
                t->has_channel = 1;
                r = scan_string(c, &t->channel);
                break;
            case K_CHANNEL_MEMBERS:
                r = read_members(t, c);
                break;
            default:
                r = DECLINE;
        }
        if (r != OK) return r;
    }
    return r == END ? OK : r;
}

#define POST_WANTED (K_USER | K_CREATE_AT | K_REACTIONS | K_ATTACHMENTS | K_REPLIES)

/* One line whose envelope `c` has passed: read into the scratch lists (OK), or not. */
static int read_line(Tally *t, Cur *c, int direct) {
    t->owner_count = t->item_count = t->member_count = 0;
    t->has_team = t->has_channel = 0;
    if (grow((void **)&t->owners, &t->owner_room, 1, sizeof *t->owners) != OK) return FAIL;
    memset(&t->owners[0], 0, sizeof t->owners[0]);
    t->owner_count = 1;
    unsigned wanted = POST_WANTED | (direct ? K_CHANNEL_MEMBERS : K_TEAM | K_CHANNEL);
    int r = read_post(t, c, 0, wanted, 1);
    if (r == OK) r = envelope_end(c);
    if (r != OK) return r;
    /* A post outside any channel, or a direct post without members, is Python's. */
    if (direct ? t->member_count == 0 : !(t->has_team && t->has_channel)) return DECLINE;
    return OK;
}

/* --- counting ------------------------------------------------------------------------------ */

static int key_room(Tally *t, size_t more) {
    return grow((void **)&t->key, &t->key_cap, t->key_len + more, 1);
}

/* A string's UTF-8 (unescaped) appended to the key, after its length when `sized`. */
static int key_str(Tally *t, const Str *s, int sized) {
    if (key_room(t, 4 + (size_t)s->len) != OK) return FAIL;
    size_t at = t->key_len + (sized ? 4 : 0);
    uint32_t n = (uint32_t)(s->escaped ? unescape(s, t->key + at) : s->len);
    if (!s->escaped) memcpy(t->key + at, s->start, (size_t)s->len);
    if (sized) memcpy(t->key + t->key_len, &n, 4);
    t->key_len = at + n;
    return OK;
}

/* Whether the ASCII members' distinct lowercased names number more than two. */
static int is_group(const Str *members, size_t count) {
    size_t distinct = 0;
    for (size_t i = 0; i < count && distinct <= 2; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) {
            if (members[j].len != members[i].len) continue;
            Py_ssize_t k = 0;
            while (k < members[i].len) {
                unsigned char a = members[i].start[k], b = members[j].start[k];
                if (a >= 'A' && a <= 'Z') a = (unsigned char)(a + 32);
                if (b >= 'A' && b <= 'Z') b = (unsigned char)(b + 32);
                if (a != b) break;
                k++;
            }
            seen = k == members[i].len;
        }
        distinct += !seen;
    }
    return distinct > 2;
}

/* The place of the line just read: a channel keyed 'c' + team (length first) + channel, or a
 * DM/GM keyed 'd' + its members as written (each length first). */
static int64_t place_of(Tally *t, int direct) {
    int added, r = OK;
    t->key_len = 0;
    if (key_room(t, 1) != OK) return -1;
    t->key[t->key_len++] = direct ? 'd' : 'c';
    if (direct) {
        for (size_t i = 0; r == OK && i < t->member_count; i++) r = key_str(t, &t->members[i], 1);
    } else {
        r = key_str(t, &t->team, 1);
        if (r == OK) r = key_str(t, &t->channel, 0);
    }
    if (r != OK) return -1;
    int64_t id = intern(&t->places, t->key, t->key_len, &added);
    if (id < 0 || !added) return id;
    Place *place = (Place *)t->places.records + id;
    if (direct) {
        place->group = is_group(t->members, t->member_count) ? GROUP_GM : GROUP_DM;
    } else {
        uint32_t team_len;
        memcpy(&team_len, t->key + 1, 4);
        int64_t team = intern(&t->teams, t->key + 5, team_len, &added);
        if (team < 0) return -1;
        /* (the place's record has not moved: only `teams` grew) */
        place->group = FIRST_TEAM_GROUP + (uint32_t)team;
    }
    return id;
}

static int64_t person_of(Tally *t, const Str *user) {
    int added;
    t->key_len = 0;
    if (key_str(t, user, 0) != OK) return -1;
    return intern(&t->people, t->key, t->key_len, &added);
}

static inline long long floor_day(long long at) {
    long long day = at / DAY_MS;
    return (at % DAY_MS != 0 && at < 0) ? day - 1 : day;
}

static int64_t bucket_of(Tally *t, long long at, uint32_t group) {
    char key[12];
    long long day = floor_day(at);
    int added;
    memcpy(key, &day, 8);
    memcpy(key + 8, &group, 4);
    return intern(&t->days, key, sizeof key, &added);
}

static int add_author(Tally *t, int64_t place, int64_t person) {
    uint32_t key[2] = {(uint32_t)place, (uint32_t)person};
    int added;
    return intern(&t->authors, key, sizeof key, &added) < 0 ? FAIL : OK;
}

/* Count the line just read, as TableCounts._post counts it. */
static int count_line(Tally *t, int direct, Py_ssize_t line_bytes) {
    LineType *stats = &t->line_types[direct];
    int64_t place = place_of(t, direct);
    if (place < 0) return FAIL;
    stats->lines++;
    stats->bytes += line_bytes;
    uint32_t group = ((Place *)t->places.records + place)->group;
    for (size_t k = 0; k < t->owner_count; k++) {
        Owner *o = &t->owners[k];
        o->person = o->bucket = -1;
        if (o->has_at) {
            o->bucket = bucket_of(t, o->at, group);
            if (o->bucket < 0) return FAIL;
        }
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
    for (size_t i = 0; i < t->item_count; i++) {
        const Item *item = &t->items[i];
        const Owner *o = &t->owners[item->owner];
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
        int added;
        /* The extension, lowercased (ASCII: plain_path accepted the path). */
        t->key_len = 0;
        if (key_room(t, (size_t)item->ext_len) != OK) return FAIL;
        for (Py_ssize_t j = 0; j < item->ext_len; j++) {
            unsigned char ch = item->ext[j];
            t->key[j] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
        }
        int64_t ext = intern(&t->extensions, t->key, (size_t)item->ext_len, &added);
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

/* --- the type ------------------------------------------------------------------------------ */

static PyObject *tally_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    PyObject *files;
    static char *names[] = {"files", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O:Tally", names, &files)) return NULL;
    const MemberTable *table = NULL;
    if (files != Py_None) {
        table = PyCapsule_GetPointer(files, MEMBER_TABLE_CAPSULE);
        if (table == NULL) return NULL;
    }
    Tally *t = (Tally *)type->tp_alloc(type, 0);
    if (t == NULL) return NULL;
    t->capsule = Py_NewRef(files);
    t->files = table;
    t->places.record_size = sizeof(Place);
    t->people.record_size = sizeof(Person);
    t->days.record_size = sizeof(Bucket);
    t->extensions.record_size = sizeof(FileType);
    return (PyObject *)t;
}

static void tally_dealloc(Tally *t) {
    Table *tables[] = {&t->places, &t->people, &t->teams, &t->authors, &t->days, &t->extensions};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) table_free(tables[i]);
    PyMem_Free(t->owners);
    PyMem_Free(t->items);
    PyMem_Free(t->members);
    PyMem_Free(t->key);
    Py_XDECREF(t->capsule);
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
    PyObject *batch = args[0];
    Py_ssize_t n = PyList_GET_SIZE(batch), i;
    /* No Python code runs in this loop: the list and its lines stay as they are. */
    for (i = start; i < n; i++) {
        PyObject *raw = PyList_GET_ITEM(batch, i);
        if (!PyBytes_CheckExact(raw)) break;
        Cur c = line_cursor(raw);
        int direct = envelope_start(&c);
        if (direct < 0) break;
        int r = read_line(t, &c, direct);
        if (r == OK) r = count_line(t, direct, PyBytes_GET_SIZE(raw));
        if (r == FAIL) return NULL;
        if (r == DECLINE) break;
    }
    return PyLong_FromSsize_t(i);
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

/* counts() -> (line_types, places, people, authors, teams, days, file_types); see
 * archivekit/report/table_counts.py (TableCounts.add_counted) for the shapes. */
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
    result = Py_BuildValue("((LLLLL)(LLLLL))OOOOOO", (long long)l[0].lines, (long long)l[0].bytes,
                           (long long)l[0].replies, (long long)l[0].reactions, (long long)l[0].files,
                           (long long)l[1].lines, (long long)l[1].bytes, (long long)l[1].replies,
                           (long long)l[1].reactions, (long long)l[1].files, places, people, authors,
                           teams, days, types);
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
    {"counts", (PyCFunction)(void (*)(void))tally_counts, METH_NOARGS,
     "counts() -> tuple: everything counted so far, keyed by names as written (see "
     "archivekit/report/table_counts.py, TableCounts.add_counted)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject TallyType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "archivekit.check.fast._tables.Tally",
    .tp_basicsize = sizeof(Tally),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Tally(files): the tables' counts of post lines; `files` is the member index's "
              "table capsule (None: lines with attachments are left to Python).",
    .tp_new = tally_new,
    .tp_dealloc = (destructor)tally_dealloc,
    .tp_methods = tally_methods,
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "archivekit.check.fast._tables",
    "The tables' counting of post lines, in C (see archivekit.report.table_counts).", -1, NULL,
};

PyMODINIT_FUNC PyInit__tables(void) {
    jsonline_init();
    if (PyType_Ready(&TallyType) < 0) return NULL;
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL) return NULL;
#ifndef SOURCE_SHA256
#define SOURCE_SHA256 "unknown"
#endif
    /* Which source this was built from: a test compares it with the files (stale builds). */
    if (PyModule_AddStringConstant(module, "SOURCE_SHA256", SOURCE_SHA256) < 0 ||
        PyModule_AddObjectRef(module, "Tally", (PyObject *)&TallyType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
