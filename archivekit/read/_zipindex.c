/*
 * archivekit.read._zipindex: the zip central directory read into a compact member index.
 *
 * `read_index(fd, start, file_size, base)` parses the central directory from `start` the way
 * archivekit/read/zipdir.py does (the reference, and the fallback without a C compiler; a test
 * holds the two to the same members on every archive the suite has): records are read until
 * one does not parse, zip64 sizes come from the zip64 extra field as Go reads them. Instead
 * of one Python object per entry it keeps the layout of archivekit/read/_memberindex.h: 40
 * bytes per entry, the names front-coded in one buffer, a hash table of 32-bit slots. No Python object is
 * made per member; the GIL is released while the directory is read and parsed.
 *
 * Input is hostile: every field is bounds-checked against the window it was read into.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "_memberindex.h"

#define CENTRAL_SIZE 46
#define WINDOW (4u << 20)
#define U32_MAX 0xFFFFFFFFu
#define ZIP64_EXTRA_ID 0x0001
#define S_IFMT_BITS 0170000
#define S_IFLNK_BITS 0120000

/* Why reading stopped early (besides the end of the records). */
enum { READ_OK = 0, READ_ZIP64_MISSING = 1, READ_ZIP64_SHORT = 2, READ_IO = 3, READ_NOMEM = 4,
       READ_TOO_MANY = 5 };

typedef struct {
    PyObject_HEAD
    MemberTable t;
    size_t records_cap, names_cap, aliases_cap, alias_keys_cap;
    /* While the directory is read: each entry's key hash, and the previous whole name. */
    uint64_t *hashes;
    size_t hashes_cap;
    char previous[65536];
    size_t previous_len;
} IndexObject;

static inline uint16_t le16(const unsigned char *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t le64(const unsigned char *p) { return le32(p) | ((uint64_t)le32(p + 4) << 32); }

static int grow(void **buf, size_t *cap, size_t need, size_t item) {
    if (need <= *cap) return 1;
    size_t cap2 = *cap ? *cap : 1024;
    while (cap2 < need) cap2 *= 2;
    void *p = realloc(*buf, cap2 * item);
    if (p == NULL) return 0;
    *buf = p;
    *cap = cap2;
    return 1;
}

/* Go's reading of the zip64 extra field (zipdir._apply_zip64_extra): only the maxed-out
 * values, in the order size, compressed size, offset. */
static int apply_zip64(const unsigned char *extra, size_t n, uint64_t *size, uint64_t *csize,
                       uint64_t *offset) {
    int need_size = *size == U32_MAX, need_csize = *csize == U32_MAX, need_offset = *offset == U32_MAX;
    size_t i = 0;
    while (n - i >= 4) {
        uint16_t tag = le16(extra + i), len = le16(extra + i + 2);
        i += 4;
        if (n - i < len) break;
        const unsigned char *field = extra + i;
        i += len;
        if (tag != ZIP64_EXTRA_ID) continue;
        size_t j = 0;
        if (need_size) {
            if (len < j + 8) return READ_ZIP64_SHORT;
            *size = le64(field + j);
            j += 8;
            need_size = 0;
        }
        if (need_csize) {
            if (len < j + 8) return READ_ZIP64_SHORT;
            *csize = le64(field + j);
            j += 8;
            need_csize = 0;
        }
        if (need_offset) {
            if (len < j + 8) return READ_ZIP64_SHORT;
            *offset = le64(field + j);
            need_offset = 0;
        }
    }
    /* Go accepts an uncompressed size of exactly 4 GiB - 1 without a zip64 field. */
    return (need_csize || need_offset) ? READ_ZIP64_MISSING : READ_OK;
}

/* One central-directory record at p (record_len bytes, already in the window). */
static int add_record(IndexObject *self, const unsigned char *p, uint64_t base) {
    MemberTable *t = &self->t;
    uint16_t flags = le16(p + 8), method = le16(p + 10);
    uint16_t n_name = le16(p + 28), n_extra = le16(p + 30);
    uint64_t csize = le32(p + 20), size = le32(p + 24), offset = le32(p + 42);
    uint32_t attrs = le32(p + 38);
    const unsigned char *name = p + CENTRAL_SIZE;
    int status = READ_OK;
    if (csize == U32_MAX || size == U32_MAX || offset == U32_MAX)
        status = apply_zip64(name + n_name, n_extra, &size, &csize, &offset);
    /* Indexes fit 31 bits (ALIAS_SLOT), name offsets 32: beyond, the Python parser. */
    if (t->count >= ALIAS_SLOT - 1 || t->names_len + n_name > UINT32_MAX) return READ_TOO_MANY;
    if (!grow((void **)&t->records, &self->records_cap, t->count + 1, sizeof(MemberRecord)) ||
        !grow((void **)&self->hashes, &self->hashes_cap, t->count + 1, sizeof(uint64_t)) ||
        !grow((void **)&t->names, &self->names_cap, t->names_len + n_name, 1))
        return READ_NOMEM;
    size_t shared = 0;
    if (t->count % MEMBER_RESTART != 0) {
        size_t most = n_name < self->previous_len ? n_name : self->previous_len;
        if (most > 255) most = 255;
        while (shared < most && self->previous[shared] == (char)name[shared]) shared++;
    }
    self->hashes[t->count] = member_key_hash((const char *)name, n_name);
    MemberRecord *r = &t->records[t->count++];
    memset(r, 0, sizeof *r);
    r->name_offset = (uint32_t)t->names_len;
    r->name_len = n_name;
    r->shared = (uint8_t)shared;
    memcpy(t->names + t->names_len, name + shared, n_name - shared);
    t->names_len += n_name - shared;
    memcpy(self->previous, name, n_name);
    self->previous_len = n_name;
    r->method = method;
    r->flags = flags;
    r->crc = le32(p + 16);
    r->compressed_size = csize;
    r->size = size;
    r->header_offset = offset + base;
    if (n_name > 0 && name[n_name - 1] == '/') r->bits |= MB_DIR;
    if (((attrs >> 16) & S_IFMT_BITS) == S_IFLNK_BITS) r->bits |= MB_SYMLINK;
    if (flags & 1) r->bits |= MB_ENCRYPTED;
    uint64_t high = 0, w;
    uint16_t i = 0;
    for (; i + 8 <= n_name; i += 8) {
        memcpy(&w, name + i, 8);
        high |= w;
    }
    for (; i < n_name; i++) high |= name[i];
    /* Most non-ASCII names are NFC UTF-8, their own key: only the others are Python's. */
    if ((high & 0x8080808080808080ULL) && !nfc_quick(name, n_name)) r->bits |= MB_KEY_APART;
    if (n_name >= 5 && memcmp(name, "data/", 5) == 0) r->bits |= MB_DATA;
    /* What the name hygiene checks look for (archivekit/read/source.py member_issues):
     * absolute, a drive letter, a backslash, "..". A superset: Python decides. */
    const char *text = (const char *)name;
    if ((n_name > 0 && (name[0] == '/' || name[0] == '\\')) || (n_name >= 2 && name[1] == ':') ||
        memchr(text, '\\', n_name) != NULL)
        r->bits |= MB_ODD_NAME;
    for (uint16_t j = 0; j + 1 < n_name && !(r->bits & MB_ODD_NAME); j++)
        if (name[j] == '.' && name[j + 1] == '.') r->bits |= MB_ODD_NAME;
    /* A bad zip64 field stops the reading: the entry is kept for its name in the error. */
    return status;
}

/* Reads records from `start` until one does not parse. */
static int read_records(IndexObject *self, int fd, uint64_t start, uint64_t file_size, uint64_t base) {
    unsigned char *buf = malloc(WINDOW);
    if (buf == NULL) return READ_NOMEM;
    size_t have = 0, pos = 0;
    uint64_t next = start; /* file offset of buf[have] */
    int status = READ_OK;
    for (;;) {
        if (have - pos < CENTRAL_SIZE || have - pos < CENTRAL_SIZE + 3 * 65535u) {
            /* Refill: keep the unread tail, read as much as fits. */
            if (next < file_size) {
                memmove(buf, buf + pos, have - pos);
                have -= pos;
                pos = 0;
                size_t want = WINDOW - have;
                if ((uint64_t)want > file_size - next) want = (size_t)(file_size - next);
                while (want > 0) {
                    ssize_t got = pread(fd, buf + have, want, (off_t)next);
                    if (got < 0 && errno == EINTR) continue;
                    if (got < 0) {
                        status = READ_IO;
                        goto out;
                    }
                    if (got == 0) {
                        file_size = next; /* the file shrank: read no further */
                        break;
                    }
                    have += (size_t)got;
                    next += (uint64_t)got;
                    want -= (size_t)got;
                }
            }
        }
        if (have - pos < CENTRAL_SIZE || memcmp(buf + pos, "PK\x01\x02", 4) != 0) break;
        const unsigned char *p = buf + pos;
        size_t record_len = CENTRAL_SIZE + (size_t)le16(p + 28) + le16(p + 30) + le16(p + 32);
        if (have - pos < record_len) break; /* cut short: the entry count check reports it */
        status = add_record(self, p, base);
        if (status != READ_OK) break;
        pos += record_len;
    }
out:
    free(buf);
    return status;
}

static int build_table(IndexObject *self) {
    MemberTable *t = &self->t;
    /* Load at most 3/4 even if every entry gets a key (aliases replace skipped names). */
    size_t cap = 8;
    while (cap / 4 * 3 < t->count + 1) cap *= 2;
    t->slots = calloc(cap, sizeof(uint32_t));
    if (t->slots == NULL) return 0;
    t->mask = cap - 1;
    char name[65536];
    for (size_t i = 0; i < t->count; i++) {
        MemberRecord *r = &t->records[i];
        if (r->bits & MB_KEY_APART) continue; /* keyed by Python (NFC), as an alias */
        /* Probe with the hashes kept while reading: names are compared (and decoded) only
         * when the hashes match. No aliases exist yet: every slot is an entry's. */
        uint64_t h = self->hashes[i];
        size_t at = (size_t)h & t->mask;
        for (;; at = (at + 1) & t->mask) {
            uint32_t slot = t->slots[at];
            if (slot == 0) break;
            if (self->hashes[slot - 1] != h) continue;
            member_name(t, i, name);
            if (member_name_equals(t, slot - 1, name, r->name_len)) {
                t->records[slot - 1].bits |= MB_SHADOWED | MB_DUPLICATE;
                r->bits |= MB_DUPLICATE;
                break;
            }
        }
        t->slots[at] = (uint32_t)i + 1;
    }
    free(self->hashes);
    self->hashes = NULL;
    self->hashes_cap = 0;
    return 1;
}

static void index_dealloc(IndexObject *self) {
    free(self->t.records);
    free(self->t.names);
    free(self->t.slots);
    free(self->t.aliases);
    free(self->t.alias_keys);
    free(self->hashes);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject IndexType;

static Py_ssize_t index_len(IndexObject *self) { return (Py_ssize_t)self->t.count; }

static int member_arg(IndexObject *self, PyObject *arg, size_t *out) {
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred()) return 0;
    if (i < 0 || (size_t)i >= self->t.count) {
        PyErr_SetString(PyExc_IndexError, "member index out of range");
        return 0;
    }
    *out = (size_t)i;
    return 1;
}

/* record(i) -> (raw name, method, flags, compressed_size, size, crc, header_offset, bits) */
static PyObject *index_record(IndexObject *self, PyObject *arg) {
    size_t i;
    if (!member_arg(self, arg, &i)) return NULL;
    const MemberRecord *r = &self->t.records[i];
    char name[65536];
    member_name(&self->t, i, name);
    return Py_BuildValue("(y#HHKKkKB)", name, (Py_ssize_t)r->name_len, r->method, r->flags, (unsigned long long)r->compressed_size,
                         (unsigned long long)r->size, (unsigned long)r->crc,
                         (unsigned long long)r->header_offset, r->bits);
}

/* find(key: bytes) -> the index of the entry the server finds for a key (UTF-8, NFC), or -1 */
static PyObject *index_find(IndexObject *self, PyObject *arg) {
    char *key;
    Py_ssize_t n;
    if (PyBytes_AsStringAndSize(arg, &key, &n) < 0) return NULL;
    return PyLong_FromLongLong(member_table_find(&self->t, key, (size_t)n));
}

static void mark_pair(MemberTable *t, uint32_t earlier, uint32_t later) {
    t->records[earlier].bits |= MB_SHADOWED | MB_DUPLICATE;
    t->records[later].bits |= MB_DUPLICATE;
}

/* alias(key: bytes, i): entry i (MB_KEY_APART) has this key (UTF-8); the last entry wins. */
static PyObject *index_alias(IndexObject *self, PyObject *args) {
    const char *key;
    Py_ssize_t n;
    PyObject *which;
    size_t i;
    if (!PyArg_ParseTuple(args, "y#O", &key, &n, &which) || !member_arg(self, which, &i)) return NULL;
    MemberTable *t = &self->t;
    size_t at = member_table_probe(t, key, (size_t)n);
    if (t->slots[at] != 0) {
        int equal;
        uint32_t other = member_slot(t, t->slots[at], key, (size_t)n, &equal);
        if (other == i) Py_RETURN_NONE;
        if (other > i) {
            mark_pair(t, (uint32_t)i, other);
            Py_RETURN_NONE;
        }
        mark_pair(t, other, (uint32_t)i);
    }
    if (!grow((void **)&t->aliases, &self->aliases_cap, t->alias_count + 1, sizeof(MemberAlias)) ||
        !grow((void **)&t->alias_keys, &self->alias_keys_cap, t->alias_keys_len + (size_t)n, 1))
        return PyErr_NoMemory();
    MemberAlias *a = &t->aliases[t->alias_count];
    a->key_offset = t->alias_keys_len;
    a->key_len = (uint32_t)n;
    a->member = (uint32_t)i;
    memcpy(t->alias_keys + t->alias_keys_len, key, (size_t)n);
    t->alias_keys_len += (size_t)n;
    t->slots[at] = (uint32_t)(ALIAS_SLOT | t->alias_count) + 1;
    t->alias_count++;
    Py_RETURN_NONE;
}

/* Whether entry i is taken (a select kind, or unreferenced): called for every entry in order,
 * twice (see packed_indexes). */
typedef int (*TakeFn)(void *ctx, size_t i);

/* The indexes of the entries `take` takes, in order, packed as native uint32 in one bytes
 * object: two passes (count, then fill) so that it is allocated once at its size — 4 bytes
 * per taken entry, no Python object per entry (a list of ints cost ~36 bytes each). */
static PyObject *packed_indexes(size_t count, TakeFn take, void *ctx) {
    size_t n = 0;
    for (size_t i = 0; i < count; i++) n += take(ctx, i) != 0;
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(n * sizeof(uint32_t)));
    if (out == NULL) return NULL;
    char *at = PyBytes_AS_STRING(out);
    for (size_t i = 0, k = 0; i < count && k < n; i++) {
        if (!take(ctx, i)) continue;
        uint32_t v = (uint32_t)i;
        memcpy(at + k++ * sizeof v, &v, sizeof v);
    }
    return out;
}

/* Entries that may have something to report (check/archive.py member_issues): unreadable,
 * duplicate, unsafe or backslashed names, symlinks, names that may not be NFC (a UTF-8 name
 * nfc_quick vouches for is NFC: nothing to say about it). A superset: Python decides. */
static int suspect(const MemberRecord *r) {
    if (!(r->bits & MB_DIR) && ((r->method != 0 && r->method != 8) || (r->bits & MB_ENCRYPTED)))
        return 1;
    return (r->bits & (MB_DUPLICATE | MB_KEY_APART | MB_SYMLINK | MB_ODD_NAME)) != 0;
}

typedef struct {
    const MemberTable *t;
    int kind;
    const char *suffix;
    size_t k;
    char name[65536]; /* the current entry's whole name, decoded in order */
} SelectCtx;

static int select_take(void *arg, size_t i) {
    SelectCtx *c = arg;
    const MemberRecord *r = &c->t->records[i];
    switch (c->kind) {
    case 0: return (r->bits & MB_KEY_APART) != 0;
    case 4: return (r->bits & (MB_KEY_APART | MB_SHADOWED)) == (MB_KEY_APART | MB_SHADOWED);
    case 1: return suspect(r);
    case 3: return !(r->bits & (MB_DIR | MB_DATA));
    default:
        memcpy(c->name + r->shared, c->t->names + r->name_offset, (size_t)(r->name_len - r->shared));
        return r->name_len >= c->k && memcmp(c->name + r->name_len - c->k, c->suffix, c->k) == 0;
    }
}

/* select(what) -> indexes packed as uint32 (packed_indexes), in order: "key_apart"
 * (MB_KEY_APART), "undecided" (the key-apart entries a later one shadows: unreferenced()
 * cannot tell their winner), "suspects", "outside_data" (files not under data/), or entries
 * whose name ends with the bytes given (b".jsonl"). */
static PyObject *index_select(IndexObject *self, PyObject *arg) {
    SelectCtx *c = PyMem_Malloc(sizeof *c);
    if (c == NULL) return PyErr_NoMemory();
    c->t = &self->t;
    c->suffix = NULL;
    c->k = 0;
    if (PyUnicode_Check(arg) && PyUnicode_CompareWithASCIIString(arg, "key_apart") == 0) {
        c->kind = 0;
    } else if (PyUnicode_Check(arg) && PyUnicode_CompareWithASCIIString(arg, "undecided") == 0) {
        c->kind = 4;
    } else if (PyUnicode_Check(arg) && PyUnicode_CompareWithASCIIString(arg, "suspects") == 0) {
        c->kind = 1;
    } else if (PyUnicode_Check(arg) && PyUnicode_CompareWithASCIIString(arg, "outside_data") == 0) {
        c->kind = 3;
    } else if (PyBytes_Check(arg)) {
        c->kind = 2;
        c->suffix = PyBytes_AS_STRING(arg);
        c->k = (size_t)PyBytes_GET_SIZE(arg);
    } else {
        PyMem_Free(c);
        PyErr_SetString(PyExc_ValueError,
                        "select('key_apart' | 'undecided' | 'suspects' | 'outside_data' | "
                        "suffix bytes)");
        return NULL;
    }
    PyObject *out = packed_indexes(self->t.count, select_take, c);
    PyMem_Free(c);
    return out;
}

/* files() -> (count, bytes) of the file entries under data/ (every entry, duplicates too). */
static PyObject *index_files(IndexObject *self, PyObject *unused) {
    (void)unused;
    const MemberTable *t = &self->t;
    unsigned long long count = 0, bytes = 0;
    for (size_t i = 0; i < t->count; i++) {
        const MemberRecord *r = &t->records[i];
        if ((r->bits & (MB_DIR | MB_DATA)) == MB_DATA) {
            count++;
            bytes += r->size;
        }
    }
    return Py_BuildValue("(KK)", count, bytes);
}

static int read_bitmap(PyObject *arg, Py_buffer *view, const MemberTable *t) {
    if (PyObject_GetBuffer(arg, view, PyBUF_SIMPLE) < 0) return 0;
    if ((size_t)view->len < (t->count + 7) / 8) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_ValueError, "the referenced bitmap is shorter than the index");
        return 0;
    }
    return 1;
}

static inline int bit(const Py_buffer *view, size_t i) {
    return (((const unsigned char *)view->buf)[i >> 3] >> (i & 7)) & 1;
}

/* stats(referenced, skip) -> (referenced, bytes, unreferenced, unreferenced_bytes) over the
 * entries the server can find (shadowed duplicates count once), except entry `skip` (the
 * JSONL's); unreferenced ones only under data/. */
static PyObject *index_stats(IndexObject *self, PyObject *args) {
    PyObject *bitmap;
    Py_ssize_t skip;
    Py_buffer view;
    const MemberTable *t = &self->t;
    if (!PyArg_ParseTuple(args, "On", &bitmap, &skip) || !read_bitmap(bitmap, &view, t)) return NULL;
    unsigned long long used = 0, used_bytes = 0, unused = 0, unused_bytes = 0;
    for (size_t i = 0; i < t->count; i++) {
        const MemberRecord *r = &t->records[i];
        if ((r->bits & (MB_DIR | MB_SHADOWED)) || (Py_ssize_t)i == skip) continue;
        if (bit(&view, i)) {
            used++;
            used_bytes += r->size;
        } else if (r->bits & MB_DATA) {
            unused++;
            unused_bytes += r->size;
        }
    }
    PyBuffer_Release(&view);
    return Py_BuildValue("(KKKK)", used, used_bytes, unused, unused_bytes);
}

typedef struct {
    const MemberTable *t;
    const Py_buffer *view;
    Py_ssize_t skip;
} UnreferencedCtx;

/* An entry no later one shadows is its key's winner; a shadowed one's winner is found by its
 * name, its key, unless it is key-apart: those (select "undecided") are all taken, for Python
 * to decide. */
static int unreferenced_take(void *arg, size_t i) {
    const UnreferencedCtx *c = arg;
    const MemberRecord *r = &c->t->records[i];
    if (r->bits & MB_DIR) return 0;
    if ((r->bits & (MB_KEY_APART | MB_SHADOWED)) == (MB_KEY_APART | MB_SHADOWED)) return 1;
    int64_t winner = (int64_t)i;
    if (r->bits & MB_SHADOWED) {
        char name[65536];
        member_name(c->t, i, name);
        winner = member_table_find(c->t, name, r->name_len);
    }
    return !(winner < 0 || winner == c->skip || bit(c->view, (size_t)winner));
}

/* unreferenced(referenced, skip) -> indexes packed as uint32 (packed_indexes) of the file
 * entries whose key's winner is neither referenced nor entry `skip`. */
static PyObject *index_unreferenced(IndexObject *self, PyObject *args) {
    PyObject *bitmap;
    Py_ssize_t skip;
    Py_buffer view;
    const MemberTable *t = &self->t;
    if (!PyArg_ParseTuple(args, "On", &bitmap, &skip) || !read_bitmap(bitmap, &view, t)) return NULL;
    UnreferencedCtx c = {t, &view, skip};
    PyObject *out = packed_indexes(t->count, unreferenced_take, &c);
    PyBuffer_Release(&view);
    return out;
}

static PyObject *index_nbytes(IndexObject *self, void *closure) {
    (void)closure;
    size_t n = sizeof *self + self->records_cap * sizeof(MemberRecord) + self->names_cap +
               (self->t.mask + 1) * sizeof(uint32_t) + self->aliases_cap * sizeof(MemberAlias) +
               self->alias_keys_cap;
    return PyLong_FromSize_t(n);
}

/* The capsule owns a reference to its index (its context, released by its destructor): the
 * table it points to lives as long as the capsule, whoever holds only the capsule. */
static void table_capsule_release(PyObject *capsule) {
    Py_XDECREF((PyObject *)PyCapsule_GetContext(capsule));
}

static PyObject *index_table(IndexObject *self, void *closure) {
    (void)closure;
    PyObject *capsule = PyCapsule_New(&self->t, MEMBER_TABLE_CAPSULE, table_capsule_release);
    if (capsule == NULL) return NULL;
    if (PyCapsule_SetContext(capsule, self) < 0) {
        Py_DECREF(capsule);
        return NULL;
    }
    Py_INCREF(self);
    return capsule;
}

static PyObject *index_check_local(IndexObject *self, PyObject *args);

static PyMethodDef index_methods[] = {
    {"record", (PyCFunction)index_record, METH_O,
     "record(i) -> (raw name, method, flags, compressed_size, size, crc, header_offset, bits)"},
    {"find", (PyCFunction)index_find, METH_O, "find(key: bytes) -> entry index or -1 (UTF-8 NFC keys)"},
    {"alias", (PyCFunction)index_alias, METH_VARARGS, "alias(key: bytes, i): entry i's key"},
    {"select", (PyCFunction)index_select, METH_O,
     "select('key_apart' | 'undecided' | 'suspects' | 'outside_data' | suffix: bytes) -> "
     "entry indexes packed as native uint32"},
    {"files", (PyCFunction)index_files, METH_NOARGS, "files() -> (count, bytes) under data/"},
    {"stats", (PyCFunction)index_stats, METH_VARARGS,
     "stats(referenced, skip) -> (referenced, bytes, unreferenced, unreferenced_bytes)"},
    {"unreferenced", (PyCFunction)index_unreferenced, METH_VARARGS,
     "unreferenced(referenced, skip) -> candidate entry indexes packed as native uint32"},
    {"check_local", (PyCFunction)index_check_local, METH_VARARGS,
     "check_local(offsets, name_hashes, states, sizes, names, name_lengths) -> None or (entry, why, ordinal): a "
     "stream's local headers against the directory (archivekit.read.stream)"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef index_getset[] = {
    {"nbytes", (getter)index_nbytes, NULL, "bytes allocated for the index", NULL},
    {"table", (getter)index_table, NULL, "a capsule of the MemberTable (for the C fast path)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PySequenceMethods index_as_sequence = {.sq_length = (lenfunc)index_len};

static PyTypeObject IndexType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "archivekit.read._zipindex.MemberIndex",
    .tp_basicsize = sizeof(IndexObject),
    .tp_dealloc = (destructor)index_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The compact member index of a zip (see archivekit/read/_memberindex.h).",
    .tp_methods = index_methods,
    .tp_getset = index_getset,
    .tp_as_sequence = &index_as_sequence,
};

/* read_index(fd, start, file_size, base) -> MemberIndex
 *
 * Raises ValueError(code, raw name) for a damaged zip64 field ("zip64-missing",
 * "zip64-short"), OSError for a read error. */
static PyObject *read_index(PyObject *module, PyObject *args) {
    (void)module;
    int fd;
    unsigned long long start, file_size, base;
    if (!PyArg_ParseTuple(args, "iKKK", &fd, &start, &file_size, &base)) return NULL;
    IndexObject *self = PyObject_New(IndexObject, &IndexType);
    if (self == NULL) return NULL;
    memset(&self->t, 0, sizeof self->t);
    self->records_cap = self->names_cap = self->aliases_cap = self->alias_keys_cap = 0;
    self->hashes = NULL;
    self->hashes_cap = self->previous_len = 0;
    int status, built = 1;
    Py_BEGIN_ALLOW_THREADS
    status = read_records(self, fd, start, file_size, base);
    if (status == READ_OK) {
        /* Give back what the doubling over-allocated. */
        MemberTable *t = &self->t;
        void *p;
        if (t->count > 0 && (p = realloc(t->records, t->count * sizeof(MemberRecord))) != NULL) {
            t->records = p;
            self->records_cap = t->count;
        }
        if (t->names_len > 0 && (p = realloc(t->names, t->names_len)) != NULL) {
            t->names = p;
            self->names_cap = t->names_len;
        }
        built = build_table(self);
    }
    Py_END_ALLOW_THREADS
    if (status == READ_ZIP64_MISSING || status == READ_ZIP64_SHORT) {
        PyObject *name = PyBytes_FromStringAndSize(self->previous, (Py_ssize_t)self->previous_len);
        PyObject *detail = name == NULL ? NULL
                                         : Py_BuildValue("(sN)",
                                                         status == READ_ZIP64_MISSING ? "zip64-missing"
                                                                                      : "zip64-short",
                                                         name);
        if (detail != NULL) {
            PyErr_SetObject(PyExc_ValueError, detail);
            Py_DECREF(detail);
        }
    } else if (status == READ_IO) {
        PyErr_SetFromErrno(PyExc_OSError);
    } else if (status == READ_NOMEM || !built) {
        PyErr_NoMemory();
    } else if (status == READ_TOO_MANY) {
        PyErr_SetString(PyExc_ValueError, "too many entries for the member index");
    }
    if (PyErr_Occurred()) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

/* nfc_quick(name: bytes) -> whether the index takes the name as its own key, NFC UTF-8
 * (_memberindex.h nfc_quick; for the tests that hold it to unicodedata). */
static PyObject *nfc_quick_py(PyObject *module, PyObject *arg) {
    (void)module;
    char *s;
    Py_ssize_t n;
    if (PyBytes_AsStringAndSize(arg, &s, &n) < 0) return NULL;
    return PyBool_FromLong(nfc_quick((const unsigned char *)s, (size_t)n));
}

/* ---- walk_members: the stream's pass over consecutive members (archivekit/read/stream.py) ---
 *
 * A stream passes 100,000s of attachments whose data the checks never read. For each, Python
 * noted a few numbers after a header unpack, a name decode, a key, an image-name test and the
 * end of its data: ~10 µs. walk_members does the same in one call per buffered window, for
 * the members it can vouch for — stored with a data descriptor (the end found as
 * stream._quick_descriptor finds it, else as stream._find_descriptor does when the window
 * decides), or stored/deflated with the sizes in the local header — and stops, consuming
 * nothing of it, at the first member that needs Python: an encrypted one, another method,
 * zip64 sizes, a name that is not NFC-safe UTF-8 (nfc_quick), a head the checks read (an
 * image name, or a key in `wanted`), a descriptor with the right sizes but another CRC-32
 * before the right one, or a header, data or descriptor not wholly in the window. What it notes is packed, as the stream's
 * arrays hold it: no Python object is kept per member. */

#define WALK_LOCAL_SIZE 30
#define WALK_HOLD 28 /* stream._HOLD */
#define WALK_FLAG_ENCRYPTED 0x1
#define WALK_FLAG_DESCRIPTOR 0x8
#define WALK_WHOLE 1   /* stream._WHOLE */
#define WALK_SCANNED 2 /* stream._SCANNED */

static uint32_t walk_crc_table[8][256];
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define WALK_CRC_FOLD 1
#endif
static int walk_crc_folds; /* the CPU has PCLMULQDQ and SSE4.1 (walk_crc_init) */

static void walk_crc_init(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        walk_crc_table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++)
        for (int t = 1; t < 8; t++)
            walk_crc_table[t][n] = (walk_crc_table[t - 1][n] >> 8) ^ walk_crc_table[0][walk_crc_table[t - 1][n] & 0xFF];
#ifdef WALK_CRC_FOLD
    __builtin_cpu_init();
    walk_crc_folds = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
#endif
}

/* CRC-32 (zlib's) of p[0:n] from the state `c` (inverted), slicing by 8. */
static uint32_t walk_crc32_table(uint32_t c, const unsigned char *p, size_t n) {
    while (n >= 8) {
        uint32_t lo = c ^ le32(p), hi = le32(p + 4);
        c = walk_crc_table[7][lo & 0xFF] ^ walk_crc_table[6][(lo >> 8) & 0xFF] ^
            walk_crc_table[5][(lo >> 16) & 0xFF] ^ walk_crc_table[4][lo >> 24] ^
            walk_crc_table[3][hi & 0xFF] ^ walk_crc_table[2][(hi >> 8) & 0xFF] ^
            walk_crc_table[1][(hi >> 16) & 0xFF] ^ walk_crc_table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) c = walk_crc_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return c;
}

#ifdef WALK_CRC_FOLD
/* The same state over p[0:n], n a multiple of 16 and at least 64, folded with carry-less
 * multiplication (Intel's "Fast CRC Computation Using PCLMULQDQ", as zlib-ng and Chromium's
 * zlib do it; the constants are theirs, for the reflected polynomial 0xEDB88320): ~5x the
 * table's speed. The walk checks the CRC-32 of every stored attachment a stream passes — most
 * of its time, and the bytes a file's reader never reads. */
__attribute__((target("pclmul,sse4.1"))) static uint32_t walk_crc32_fold(uint32_t c, const unsigned char *p,
                                                                         size_t n) {
    const __m128i k1k2 = _mm_set_epi64x(0x01c6e41596LL, 0x0154442bd4LL);
    const __m128i k3k4 = _mm_set_epi64x(0x00ccaa009eLL, 0x01751997d0LL);
    const __m128i k5k0 = _mm_set_epi64x(0, 0x0163cd6124LL);
    const __m128i poly = _mm_set_epi64x(0x01f7011641LL, 0x01db710641LL);
    const __m128i low32 = _mm_setr_epi32(~0, 0, ~0, 0);
    __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 0x00));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 0x10));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 0x20));
    __m128i x4 = _mm_loadu_si128((const __m128i *)(p + 0x30));
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)c));
    p += 64;
    n -= 64;
    while (n >= 64) { /* four lanes of 16 bytes, each folded 64 bytes on */
        __m128i x5 = _mm_clmulepi64_si128(x1, k1k2, 0x00), x6 = _mm_clmulepi64_si128(x2, k1k2, 0x00);
        __m128i x7 = _mm_clmulepi64_si128(x3, k1k2, 0x00), x8 = _mm_clmulepi64_si128(x4, k1k2, 0x00);
        x1 = _mm_clmulepi64_si128(x1, k1k2, 0x11);
        x2 = _mm_clmulepi64_si128(x2, k1k2, 0x11);
        x3 = _mm_clmulepi64_si128(x3, k1k2, 0x11);
        x4 = _mm_clmulepi64_si128(x4, k1k2, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(x1, x5), _mm_loadu_si128((const __m128i *)(p + 0x00)));
        x2 = _mm_xor_si128(_mm_xor_si128(x2, x6), _mm_loadu_si128((const __m128i *)(p + 0x10)));
        x3 = _mm_xor_si128(_mm_xor_si128(x3, x7), _mm_loadu_si128((const __m128i *)(p + 0x20)));
        x4 = _mm_xor_si128(_mm_xor_si128(x4, x8), _mm_loadu_si128((const __m128i *)(p + 0x30)));
        p += 64;
        n -= 64;
    }
    /* The four lanes into one, then 16 bytes at a time. */
    __m128i x5 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
    x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x11), x2), x5);
    x5 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
    x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x11), x3), x5);
    x5 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
    x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x11), x4), x5);
    while (n >= 16) {
        x5 = _mm_clmulepi64_si128(x1, k3k4, 0x00);
        x1 = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x11),
                                         _mm_loadu_si128((const __m128i *)p)), x5);
        p += 16;
        n -= 16;
    }
    /* 128 bits to 64, then Barrett's reduction to 32. */
    x2 = _mm_clmulepi64_si128(x1, k3k4, 0x10);
    x1 = _mm_xor_si128(_mm_srli_si128(x1, 8), x2);
    x2 = _mm_srli_si128(x1, 4);
    x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, low32), k5k0, 0x00), x2);
    x2 = _mm_clmulepi64_si128(_mm_and_si128(x1, low32), poly, 0x10);
    x2 = _mm_clmulepi64_si128(_mm_and_si128(x2, low32), poly, 0x00);
    x1 = _mm_xor_si128(x1, x2);
    return (uint32_t)_mm_extract_epi32(x1, 1);
}
#endif

static uint32_t walk_crc32(const unsigned char *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
#ifdef WALK_CRC_FOLD
    if (walk_crc_folds && n >= 64) {
        size_t folded = n & ~(size_t)15;
        c = walk_crc32_fold(c, p, folded);
        p += folded;
        n -= folded;
    }
#endif
    return walk_crc32_table(c, p, n) ^ 0xFFFFFFFFu;
}

/* crc32(data) -> zlib.crc32(data), as the walk computes it (for the tests). */
static PyObject *crc32_py(PyObject *module, PyObject *arg) {
    (void)module;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    uint32_t crc = walk_crc32(view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    return PyLong_FromUnsignedLong(crc);
}

/* What may follow a member (stream._NEXT); `p` has 4 bytes. */
static int walk_next_sig(const unsigned char *p) {
    if (p[0] != 'P' || p[1] != 'K') return 0;
    unsigned a = p[2], b = p[3];
    return (a == 3 && b == 4) || (a == 1 && b == 2) || (a == 5 && b == 6) || (a == 6 && b == 6) ||
           (a == 6 && b == 8) || (a == 5 && b == 5);
}

/* First "PK" wholly in [from, end), or -1 (bytes.find). */
static Py_ssize_t walk_find_pk(const unsigned char *buf, Py_ssize_t from, Py_ssize_t end) {
    while (from + 1 < end) {
        const unsigned char *p = memchr(buf + from, 'P', (size_t)(end - 1 - from));
        if (p == NULL) return -1;
        Py_ssize_t i = p - buf;
        if (buf[i + 1] == 'K') return i;
        from = i + 1;
    }
    return -1;
}

/* stream._match_descriptor on data[0:n]: the descriptor's length and CRC-32, or 0. */
static int walk_match_descriptor(const unsigned char *data, Py_ssize_t n, uint64_t csize,
                                 uint64_t usize, Py_ssize_t *length, uint32_t *crc) {
    int signed_ = n >= 4 && memcmp(data, "PK\x07\x08", 4) == 0;
    for (int s = 0; s < 1 + signed_; s++) {
        Py_ssize_t start = signed_ && s == 0 ? 4 : 0;
        for (int wide = 0; wide < 2; wide++) {
            Py_ssize_t end = start + (wide ? 20 : 12);
            if (n < end + 4) continue;
            uint64_t compressed = wide ? le64(data + start + 4) : le32(data + start + 4);
            uint64_t size = wide ? le64(data + start + 12) : le32(data + start + 8);
            if (compressed == csize && size == usize && walk_next_sig(data + end)) {
                *length = end;
                *crc = le32(data + start);
                return 1;
            }
        }
    }
    return 0;
}

/* stream._quick_descriptor: the end of a stored member whose data starts at buf[at], in the
 * common case only (see there); 0 when the full scan must decide. */
static int walk_quick_descriptor(const unsigned char *buf, Py_ssize_t len, Py_ssize_t at, int eof,
                                 Py_ssize_t *stop, Py_ssize_t *length, uint32_t *crc) {
    Py_ssize_t i = walk_find_pk(buf, at, len);
    Py_ssize_t limit = eof ? len : len - WALK_HOLD;
    if (i < 0 || i >= limit || len - i < 4 || memcmp(buf + i, "PK\x07\x08", 4) != 0) return 0;
    Py_ssize_t bound = i + 21 < len ? i + 21 : len;
    for (Py_ssize_t k = walk_find_pk(buf, i + 1, bound); k >= 0; k = walk_find_pk(buf, k + 1, bound)) {
        if (len - k < 4 || !walk_next_sig(buf + k)) continue;
        for (Py_ssize_t j = k - 20; j <= k - 12; j += 8) {
            if (j < at || j >= i) continue;
            Py_ssize_t got;
            uint32_t ignored;
            uint64_t size = (uint64_t)(j - at);
            Py_ssize_t n = len - j < WALK_HOLD ? len - j : WALK_HOLD;
            if (le32(buf + j + 4) == (uint32_t)size &&
                walk_match_descriptor(buf + j, n, size, size, &got, &ignored))
                return 0;
        }
    }
    uint64_t size = (uint64_t)(i - at);
    Py_ssize_t n = len - i < WALK_HOLD ? len - i : WALK_HOLD;
    uint32_t expected;
    if (!walk_match_descriptor(buf + i, n, size, size, length, &expected)) return 0;
    *crc = walk_crc32(buf + at, (size_t)(i - at));
    if (*crc != expected) return 0;
    *stop = i;
    return 1;
}

/* stream._find_descriptor for a stored member whose data starts at buf[at] (nothing of it
 * read before), when it decides within the window: the first candidate, in the order they
 * start, that is a descriptor with the sizes of the bytes before it and a header signature
 * after it (every such start is a candidate: a descriptor signature there, or a header
 * signature 12 or 20 bytes on), if its CRC-32 is right too: 1. 0 when the window cannot
 * tell (no such descriptor before its last WALK_HOLD bytes); -1 when Python must: the first
 * has another CRC-32 (damaged data: the look-ahead for a later one is Python's), or more
 * candidates wait at once than WALK_PENDING. Linear in the bytes scanned:
 * a "PK" in an attachment's data no longer hands the member to Python. */
#define WALK_PENDING 64
static int walk_scan_descriptor(const unsigned char *buf, Py_ssize_t len, Py_ssize_t at, int eof,
                                Py_ssize_t *stop, Py_ssize_t *length, uint32_t *crc) {
    Py_ssize_t limit = eof ? len : len - WALK_HOLD;
    Py_ssize_t pending[WALK_PENDING]; /* candidates not tried yet, ascending */
    int count = 0;
    Py_ssize_t i = walk_find_pk(buf, at, len);
    for (;;) {
        /* Candidates up to `bound` are final: a later "PK" yields none before i - 19. */
        Py_ssize_t bound = i < 0 ? len : i - 20;
        while (count > 0 && pending[0] <= bound) {
            Py_ssize_t s = pending[0];
            if (s >= limit) return 0;
            memmove(pending, pending + 1, (size_t)--count * sizeof *pending);
            uint64_t size = (uint64_t)(s - at);
            Py_ssize_t n = len - s < WALK_HOLD ? len - s : WALK_HOLD;
            uint32_t expected;
            if (!walk_match_descriptor(buf + s, n, size, size, length, &expected)) continue;
            *crc = walk_crc32(buf + at, (size_t)size);
            if (*crc != expected) return -1;
            *stop = s;
            return 1;
        }
        if (i < 0 || i - 20 >= limit) return 0;
        Py_ssize_t found[3];
        int k = 0;
        if (len - i >= 4 && walk_next_sig(buf + i)) {
            if (i - 20 >= at) found[k++] = i - 20;
            if (i - 12 >= at) found[k++] = i - 12;
        }
        if (len - i >= 4 && memcmp(buf + i, "PK\x07\x08", 4) == 0) found[k++] = i;
        for (int f = 0; f < k; f++) {
            if (count == WALK_PENDING) return -1;
            int j = count++;
            while (j > 0 && pending[j - 1] > found[f]) {
                pending[j] = pending[j - 1];
                j--;
            }
            pending[j] = found[f];
        }
        i = walk_find_pk(buf, i + 1, len);
    }
}

/* Whether the checks may read the member's head (stream.StreamArchive._wants_head): an image
 * name (gosem.images.is_image_name, its extensions in `exts`), or a key in `wanted`; -1 when
 * only Python can tell (an extension that is not ASCII: Go's ToLower folds some of those to
 * ASCII); -2 on a Python error. The name is NFC-safe UTF-8: its own key (made as a str only
 * to look it up in `wanted`). */
static int walk_wants_head(const unsigned char *name, Py_ssize_t n, PyObject *exts, PyObject *wanted) {
    Py_ssize_t dot = -1, slash = -1;
    for (Py_ssize_t i = n - 1; i >= 0 && (dot < 0 || slash < 0); i--) {
        if (dot < 0 && name[i] == '.') dot = i;
        if (slash < 0 && name[i] == '/') slash = i;
    }
    if (dot > slash) {
        Py_ssize_t m = n - dot;
        char lower[16];
        int ascii = 1;
        for (Py_ssize_t i = 0; i < m; i++) {
            if (name[dot + i] >= 0x80) ascii = 0;
            if (i < (Py_ssize_t)sizeof lower) {
                unsigned char c = name[dot + i];
                lower[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            }
        }
        if (!ascii) return -1;
        if (m <= (Py_ssize_t)sizeof lower) {
            Py_ssize_t count = PyTuple_GET_SIZE(exts);
            for (Py_ssize_t e = 0; e < count; e++) {
                PyObject *ext = PyTuple_GET_ITEM(exts, e);
                if (PyBytes_GET_SIZE(ext) == m && memcmp(PyBytes_AS_STRING(ext), lower, (size_t)m) == 0)
                    return 1;
            }
        }
    }
    if (wanted == Py_None) return 0;
    PyObject *key = PyUnicode_DecodeUTF8((const char *)name, n, "strict");
    if (key == NULL) return -2;
    int found = PySet_Contains(wanted, key);
    Py_DECREF(key);
    return found < 0 ? -2 : found;
}

/* walk_members(buf, at, eof, offset, exts, wanted)
 *   -> (end, offsets, name_hashes, names, name_lengths, crcs, sizes, states, short)
 *
 * Walks the members whose local headers start at buf[at] (stream offset `offset`), while it
 * can vouch for them (see above); `eof`: the stream has nothing after `buf`. `exts`: the
 * image extensions (lowercase bytes) when image heads are read, else None; `wanted`: a set of
 * the keys whose heads are read, or None. Returns where it stopped in `buf` and, per member
 * passed, packed in native order: its header's stream offset (uint64), members.name_hash of
 * its name (int64), its name's bytes (all names end to end) and their length (uint16), the CRC-32 and size of its data as read (uint32, uint64: 0 when it was skipped
 * by its header's sizes) and its state bits (one byte); then whether it stopped only because
 * the window ends (short: more of the stream may let it go on; never at `eof`). */
static PyObject *walk_members(PyObject *module, PyObject *args) {
    (void)module;
    Py_buffer view;
    Py_ssize_t at;
    int eof;
    unsigned long long offset;
    PyObject *exts, *wanted;
    if (!PyArg_ParseTuple(args, "y*npKOO", &view, &at, &eof, &offset, &exts, &wanted)) return NULL;
    if ((exts != Py_None && !PyTuple_Check(exts)) || (wanted != Py_None && !PyAnySet_Check(wanted)) ||
        at < 0 || at > view.len) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "walk_members(buf, at, eof, offset, exts: tuple | None, wanted: set | None)");
        return NULL;
    }
    if (exts != Py_None) {
        for (Py_ssize_t e = 0; e < PyTuple_GET_SIZE(exts); e++) {
            if (!PyBytes_Check(PyTuple_GET_ITEM(exts, e))) {
                PyBuffer_Release(&view);
                PyErr_SetString(PyExc_ValueError, "walk_members: exts must hold bytes");
                return NULL;
            }
        }
    }
    const unsigned char *buf = view.buf;
    Py_ssize_t len = view.len, pos = at;
    ByteColumn offsets = {0}, hashes = {0}, names = {0}, lens = {0}, crcs = {0}, sizes = {0}, states = {0};
    int failed = 0;
    int short_ = 0; /* stopped where the window ends: more of the stream may let it go on */
    for (;;) {
        if (len - pos < WALK_LOCAL_SIZE) {
            short_ = len - pos < 4 || memcmp(buf + pos, "PK\x03\x04", 4) == 0;
            break;
        }
        if (memcmp(buf + pos, "PK\x03\x04", 4) != 0) break;
        const unsigned char *h = buf + pos;
        uint16_t flags = le16(h + 6), method = le16(h + 8), n_name = le16(h + 26), n_extra = le16(h + 28);
        uint32_t csize = le32(h + 18), usize = le32(h + 22);
        Py_ssize_t data = pos + WALK_LOCAL_SIZE + n_name + n_extra;
        if (data > len) {
            short_ = 1;
            break;
        }
        if (flags & WALK_FLAG_ENCRYPTED) break;
        const unsigned char *name = h + WALK_LOCAL_SIZE;
        if (!nfc_quick(name, n_name)) break;
        Py_ssize_t end;
        uint32_t crc = 0;
        uint64_t size = 0;
        unsigned char state = 0;
        if (flags & WALK_FLAG_DESCRIPTOR) {
            if (method != 0) break;
        } else {
            if ((method != 0 && method != 8) || csize == U32_MAX || usize == U32_MAX) break;
            if ((uint64_t)(len - data) < csize) {
                short_ = 1;
                break;
            }
        }
        /* members.name_hash: hash() of the name's stored bytes, made without an object. */
        int64_t name_hash = (int64_t)_Py_HashBytes(name, n_name); /* as array("q") holds it */
        int wants = exts == Py_None ? 0 : walk_wants_head(name, n_name, exts, wanted);
        if (wants == -2) {
            failed = 1;
            break;
        }
        if (wants != 0) break;
        if (flags & WALK_FLAG_DESCRIPTOR) {
            Py_ssize_t stop, length;
            if (!walk_quick_descriptor(buf, len, data, eof, &stop, &length, &crc)) {
                int scanned = walk_scan_descriptor(buf, len, data, eof, &stop, &length, &crc);
                if (scanned != 1) {
                    short_ = scanned == 0;
                    break;
                }
            }
            size = (uint64_t)(stop - data);
            end = stop + length;
            state = WALK_WHOLE | WALK_SCANNED;
        } else {
            end = data + (Py_ssize_t)csize;
        }
        uint64_t header_offset = offset + (uint64_t)(pos - at);
        if (!column_put(&offsets, &header_offset, sizeof header_offset) ||
            !column_put(&hashes, &name_hash, sizeof name_hash) ||
            (n_name > 0 && !column_put(&names, name, n_name)) || !column_put(&lens, &n_name, sizeof n_name) ||
            !column_put(&crcs, &crc, sizeof crc) ||
            !column_put(&sizes, &size, sizeof size) || !column_put(&states, &state, 1)) {
            PyErr_NoMemory();
            failed = 1;
            break;
        }
        pos = end;
    }
    PyBuffer_Release(&view);
    PyObject *out = failed ? NULL
                           : Py_BuildValue("(ny#y#y#y#y#y#y#N)", pos, column_bytes(&offsets), (Py_ssize_t)offsets.len,
                                           column_bytes(&hashes), (Py_ssize_t)hashes.len, column_bytes(&names),
                                           (Py_ssize_t)names.len, column_bytes(&lens), (Py_ssize_t)lens.len,
                                           column_bytes(&crcs),
                                           (Py_ssize_t)crcs.len, column_bytes(&sizes), (Py_ssize_t)sizes.len,
                                           column_bytes(&states), (Py_ssize_t)states.len,
                                           PyBool_FromLong(short_ && !eof));
    PyMem_Free(offsets.data);
    PyMem_Free(hashes.data);
    PyMem_Free(names.data);
    PyMem_Free(lens.data);
    PyMem_Free(crcs.data);
    PyMem_Free(sizes.data);
    PyMem_Free(states.data);
    return out;
}

/* check_local(offsets, name_hashes, states, sizes, names, name_lengths) -> None or (entry, why, ordinal)
 *
 * stream.StreamArchive._check_members over this index, without a Python object per entry
 * that passes: the stream noted, per local header in stream order, its offset (uint64,
 * ascending), members.name_hash of its name (int64), its state bits (bytes; 2: ended by a scan for
 * its descriptor) and its size as read (uint64). The first entry, in directory order, with no
 * local header at its offset (why 1), a header of another name (2: members.name_hash of
 * the stored name's bytes differs, or, where it is the same, the bytes themselves: `names`, each
 * header's name end to end, `name_lengths` theirs as uint16 — a hash alone would let two names
 * of one hash pass, which a fixed PYTHONHASHSEED makes conceivable), or a scanned size other than
 * its compressed size (3). */
static PyObject *index_check_local(IndexObject *self, PyObject *args) {
    Py_buffer offsets, hashes, states, sizes, names, lens;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*", &offsets, &hashes, &states, &sizes, &names, &lens)) return NULL;
    PyObject *out = NULL;
    uint64_t *starts = NULL; /* where each header's name begins in `names` */
    size_t count = (size_t)states.len;
    if ((size_t)offsets.len != count * 8 || (size_t)hashes.len != count * 8 ||
        (size_t)sizes.len != count * 8 || (size_t)lens.len != count * 2) {
        PyErr_SetString(PyExc_ValueError, "check_local: columns of different lengths");
        goto done;
    }
    starts = PyMem_Malloc((count + 1) * sizeof *starts);
    if (starts == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    starts[0] = 0;
    for (size_t k = 0; k < count; k++) {
        uint16_t n;
        memcpy(&n, (const char *)lens.buf + k * 2, 2);
        starts[k + 1] = starts[k] + n;
    }
    if (starts[count] != (uint64_t)names.len) {
        PyErr_SetString(PyExc_ValueError, "check_local: names and their lengths differ");
        goto done;
    }
    const MemberTable *t = &self->t;
    char name[65536];
    size_t next = 0; /* the header after the last one found: the next entry's, most often */
    for (size_t i = 0; i < t->count; i++) {
        const MemberRecord *r = &t->records[i];
        member_name(t, i, name);
        /* The first header at or after the entry's offset. A directory lists the members in
         * the order they were written, as the stream met them: the header after the last one
         * found is the answer (the first at that offset: the one before is below it) for all
         * but the first entry of an archive whose order differs, which a binary search finds. */
        size_t lo = 0, hi = count;
        uint64_t at = 0, before = 0;
        if (next < count) memcpy(&at, (const char *)offsets.buf + next * 8, 8);
        if (next > 0) memcpy(&before, (const char *)offsets.buf + (next - 1) * 8, 8);
        if (next < count && at == r->header_offset && (next == 0 || before < r->header_offset)) {
            lo = next;
        } else {
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                uint64_t v;
                memcpy(&v, (const char *)offsets.buf + mid * 8, 8);
                if (v < r->header_offset)
                    lo = mid + 1;
                else
                    hi = mid;
            }
        }
        next = lo + 1;
        uint64_t found = 0;
        if (lo < count) memcpy(&found, (const char *)offsets.buf + lo * 8, 8);
        int why = 0;
        if (lo == count || found != r->header_offset) {
            why = 1;
        } else {
            /* members.name_hash: hash() of the stored name's bytes, whatever either header's
             * UTF-8 flag says (the same name is the same bytes, as Go compares them). */
            Py_hash_t h = _Py_HashBytes(name, (Py_ssize_t)r->name_len);
            int64_t noted;
            memcpy(&noted, (const char *)hashes.buf + lo * 8, 8);
            uint64_t size;
            memcpy(&size, (const char *)sizes.buf + lo * 8, 8);
            if (noted != (int64_t)h || starts[lo + 1] - starts[lo] != r->name_len ||
                memcmp((const char *)names.buf + starts[lo], name, r->name_len) != 0)
                why = 2;
            else if ((((const unsigned char *)states.buf)[lo] & WALK_SCANNED) && size != r->compressed_size)
                why = 3;
        }
        if (why) {
            out = Py_BuildValue("(nin)", (Py_ssize_t)i, why, (Py_ssize_t)lo);
            goto done;
        }
    }
    out = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&hashes);
    PyBuffer_Release(&states);
    PyBuffer_Release(&sizes);
    PyBuffer_Release(&names);
    PyBuffer_Release(&lens);
    PyMem_Free(starts);
    return out;
}

/* mark(bits, indexes): sets bit i (byte i >> 3, bit i & 7) of the writable bitmap `bits` for
 * each entry index i packed as native uint32 (the fast path's files used), without a Python
 * int for each; IndexError at the first index past the bitmap, as bits[i >> 3] would. */
static PyObject *mark_py(PyObject *module, PyObject *args) {
    (void)module;
    Py_buffer bits, indexes;
    if (!PyArg_ParseTuple(args, "w*y*", &bits, &indexes)) return NULL;
    PyObject *result = NULL;
    if (indexes.len % 4) {
        PyErr_SetString(PyExc_ValueError, "indexes must be packed uint32");
        goto done;
    }
    unsigned char *b = bits.buf;
    const uint32_t *in = indexes.buf;
    size_t count = (size_t)indexes.len / 4, n_bytes = (size_t)bits.len;
    for (size_t k = 0; k < count; k++) {
        uint32_t i = in[k];
        if ((size_t)(i >> 3) >= n_bytes) {
            PyErr_SetString(PyExc_IndexError, "bytearray index out of range");
            goto done;
        }
        b[i >> 3] |= (unsigned char)(1u << (i & 7));
    }
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&bits);
    PyBuffer_Release(&indexes);
    return result;
}

static PyMethodDef methods[] = {
    {"mark", mark_py, METH_VARARGS,
     "mark(bits: bytearray, indexes: bytes): set the bits of entries packed as uint32."},
    {"read_index", read_index, METH_VARARGS,
     "read_index(fd, start, file_size, base) -> MemberIndex: the central directory from start."},
    {"crc32", crc32_py, METH_O, "crc32(data) -> the CRC-32 of data, as zlib.crc32 gives it."},
    {"nfc_quick", nfc_quick_py, METH_O,
     "nfc_quick(name: bytes) -> True when the name is UTF-8 the index knows to be NFC."},
    {"walk_members", walk_members, METH_VARARGS,
     "walk_members(buf, at, eof, offset, exts, wanted) -> (end, offsets, name_hashes, crcs, "
     "sizes, states, short): a stream's members passed in C (archivekit.read.stream)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "archivekit.read._zipindex",
    "The zip central directory as a compact member index (see archivekit.read.members).", -1, methods,
};

PyMODINIT_FUNC PyInit__zipindex(void) {
    if (PyType_Ready(&IndexType) < 0) return NULL;
    walk_crc_init();
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL) return NULL;
#ifndef SOURCE_SHA256
#define SOURCE_SHA256 "unknown"
#endif
    if (PyModule_AddStringConstant(module, "SOURCE_SHA256", SOURCE_SHA256) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
