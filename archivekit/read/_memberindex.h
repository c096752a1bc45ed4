/*
 * The compact member index of a zip: its layout and its lookup, shared by the module that
 * builds it (archivekit/read/_zipindex.c) and the C fast path that resolves attachments in it
 * (archivekit/check/fast/_scan.c, which gets a `MemberTable *` from the index's capsule).
 *
 * One fixed-size record per central-directory entry (40 bytes), every name in one buffer,
 * front-coded (an entry stores only what follows the prefix it shares with the previous
 * entry's name, up to 255 bytes; every 16th entry stores its whole name): export paths share
 * long prefixes, and this halves the names. An open-addressing hash table of 32-bit slots
 * (load at most 3/4: 4-8 bytes per entry) maps the server's key to the entry it finds: the
 * last of several entries with one key wins, as in the server's map. Keys are the names'
 * bytes for ASCII names; a non-ASCII name's key (its NFC form) is computed in Python, and only
 * when that key is ASCII does it enter this table, as an alias.
 */
#ifndef ARCHIVEKIT_MEMBERINDEX_H
#define ARCHIVEKIT_MEMBERINDEX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MEMBER_TABLE_CAPSULE "archivekit.read._zipindex.MemberTable"

/* MemberRecord.bits */
enum {
    MB_DIR = 1,        /* the name ends with '/' */
    MB_SYMLINK = 2,    /* unix mode S_IFLNK in the external attributes */
    MB_ENCRYPTED = 4,  /* general purpose flag bit 0 */
    MB_NON_ASCII = 8,  /* a byte >= 0x80 in the name: its key is Python's business */
    MB_SHADOWED = 16,  /* a later entry has the same key: the server never finds this one */
    MB_DUPLICATE = 32, /* its key is shared with another entry */
    MB_ODD_NAME = 64,  /* absolute, drive letter, backslash or ".." (the hygiene checks') */
    MB_DATA = 128,     /* the name starts with "data/" */
};

/* Every MEMBER_RESTART-th entry stores its whole name. */
#define MEMBER_RESTART 16

typedef struct {
    uint64_t compressed_size;
    uint64_t size;
    uint64_t header_offset; /* absolute: the prefix before the archive already added */
    uint32_t name_offset;   /* of the stored part of the name, in MemberTable.names */
    uint32_t crc;
    uint16_t name_len; /* the whole name */
    uint16_t method;
    uint16_t flags;
    uint8_t shared; /* leading bytes shared with the previous entry's name, not stored */
    uint8_t bits;
} MemberRecord;

typedef struct {
    uint64_t key_offset; /* into MemberTable.alias_keys */
    uint32_t key_len;
    uint32_t member;
} MemberAlias;

/* A slot holds 0 (empty) or 1 + a member index, or 1 + (ALIAS_SLOT | an alias index). */
#define ALIAS_SLOT 0x80000000u

typedef struct {
    MemberRecord *records;
    size_t count;
    char *names;
    size_t names_len;
    uint32_t *slots;
    size_t mask; /* slots - 1 (a power of two minus one) */
    MemberAlias *aliases;
    size_t alias_count;
    char *alias_keys;
    size_t alias_keys_len;
} MemberTable;

/* A multiply-xorshift hash over 8-byte words (export paths run to 160 bytes: a byte-wise
 * hash was most of the time spent reading a large directory). Used only within one process. */
static inline uint64_t member_key_hash(const char *key, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n, w;
    for (; n >= 8; key += 8, n -= 8) {
        memcpy(&w, key, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 29;
    }
    w = 0;
    memcpy(&w, key, n);
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ULL;
    return h ^ (h >> 32);
}

/* Whether entry i's (front-coded) name is `key`: each stored part is compared once, walking
 * back through the entries whose names share the prefix still to check. */
static inline int member_name_equals(const MemberTable *t, size_t i, const char *key, size_t n) {
    if (t->records[i].name_len != n) return 0;
    size_t upto = n;
    for (size_t k = i; upto > 0; k--) {
        const MemberRecord *r = &t->records[k];
        if (upto > r->shared) {
            if (memcmp(key + r->shared, t->names + r->name_offset, upto - r->shared) != 0) return 0;
            upto = r->shared;
        }
    }
    return 1;
}

/* Entry i's whole name into `buf` (name_len bytes). */
static inline void member_name(const MemberTable *t, size_t i, char *buf) {
    size_t upto = t->records[i].name_len;
    for (size_t k = i; upto > 0; k--) {
        const MemberRecord *r = &t->records[k];
        if (upto > r->shared) {
            memcpy(buf + r->shared, t->names + r->name_offset, upto - r->shared);
            upto = r->shared;
        }
    }
}

/* The member of a non-empty slot, and whether its key is `key`. */
static inline uint32_t member_slot(const MemberTable *t, uint32_t slot, const char *key, size_t n,
                                   int *equal) {
    uint32_t v = slot - 1;
    if (v & ALIAS_SLOT) {
        const MemberAlias *a = &t->aliases[v & ~ALIAS_SLOT];
        *equal = a->key_len == n && memcmp(t->alias_keys + a->key_offset, key, n) == 0;
        return a->member;
    }
    *equal = member_name_equals(t, v, key, n);
    return v;
}

/* Where `key` sits in the slot table, or the empty slot where it would go. */
static inline size_t member_table_probe(const MemberTable *t, const char *key, size_t n) {
    size_t i = (size_t)member_key_hash(key, n) & t->mask;
    for (;;) {
        uint32_t slot = t->slots[i];
        int equal;
        if (slot == 0) return i;
        member_slot(t, slot, key, n, &equal);
        if (equal) return i;
        i = (i + 1) & t->mask;
    }
}

/* The index of the entry the server finds for an ASCII key, or -1. */
static inline int64_t member_table_find(const MemberTable *t, const char *key, size_t n) {
    if (t->slots == NULL) return -1;
    uint32_t slot = t->slots[member_table_probe(t, key, n)];
    int equal;
    if (slot == 0) return -1;
    return (int64_t)member_slot(t, slot, key, n, &equal);
}

#endif
