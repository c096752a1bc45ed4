/*
 * Image dimensions from the first bytes of zip members, many members a call: the C twin of
 * archivekit/gosem/images.py (image_dimensions: PNG, JPEG, GIF, WebP, what Go's
 * image.DecodeConfig reads of them) and of the reading archivekit/read/inflate.py's quick_head
 * does (a stored or deflated member's head, read without a MemberInfo).
 *
 * An attachment-heavy archive holds hundreds of thousands of images; one Python call per image
 * (its local header, its data, its header parsed with slices) cost microseconds each. Here
 * `measure` takes the entries of a batch, reads each head with pread and zlib, and writes
 * what it finds straight into the caller's arrays (check/files.py `Dimensions`). Whatever it
 * cannot vouch for exactly as quick_head would (another method, encryption, a damaged local
 * header, a limit of the budget, data that does not inflate or fill the head, a whole member
 * whose CRC-32 is not the recorded one) it stops at and hands back: the caller reads that one
 * the Python way, which says why, and goes on from the next. The parsing must give exactly what images.py gives: the tests
 * compare them on generated, truncated and hostile heads (tests/test_image_native.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "_memberindex.h"

/* Dimensions' states (check/files.py): not read, no dimensions, 2 + the format's position in
 * images.FORMATS ("png", "jpeg", "gif", "webp"). */
enum { ST_UNREAD = 0, ST_NONE = 1, ST_FORMAT = 2 };
enum { IMG_PNG = 0, IMG_JPEG = 1, IMG_GIF = 2, IMG_WEBP = 3 };
static const char *const FORMAT_NAMES[] = {"png", "jpeg", "gif", "webp"};

#define GO_MAX_INT32 0x7FFFFFFFu

static inline uint32_t be16(const unsigned char *p) { return (uint32_t)(p[0] << 8 | p[1]); }
static inline uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint32_t le16(const unsigned char *p) { return (uint32_t)(p[0] | p[1] << 8); }
static inline uint32_t le24(const unsigned char *p) { return le16(p) | (uint32_t)p[2] << 16; }
static inline uint32_t le32(const unsigned char *p) { return le24(p) | (uint32_t)p[3] << 24; }

/* images.py _png */
static int png(const unsigned char *h, size_t n, uint32_t *w, uint32_t *ht) {
    if (n < 24 || memcmp(h + 12, "IHDR", 4) != 0) return -1;
    *w = be32(h + 16);
    *ht = be32(h + 20);
    if (!(*w > 0 && *w <= GO_MAX_INT32 && *ht > 0 && *ht <= GO_MAX_INT32)) return -1;
    return IMG_PNG;
}

/* images.py _gif */
static int gif(const unsigned char *h, size_t n, uint32_t *w, uint32_t *ht) {
    if (n < 10) return -1;
    *w = le16(h + 6);
    *ht = le16(h + 8);
    return IMG_GIF;
}

/* JPEG markers without a length (images.py _STANDALONE): TEM, RST0-7, SOI, EOI. */
static inline int standalone(unsigned m) { return m == 0x01 || (m >= 0xD0 && m <= 0xD9); }
static inline int supported_sof(unsigned m) { return m >= 0xC0 && m <= 0xC2; }
static inline int other_sof(unsigned m) {
    return m == 0xC3 || (m >= 0xC5 && m <= 0xC7) || (m >= 0xC9 && m <= 0xCB) ||
           (m >= 0xCD && m <= 0xCF);
}

/* images.py _jpeg: the markers up to the first frame header. */
static int jpeg(const unsigned char *h, size_t end, uint32_t *w, uint32_t *ht) {
    size_t pos = 2;
    while (pos < end) {
        if (h[pos] != 0xFF) return -1;
        while (pos < end && h[pos] == 0xFF) pos++;
        if (pos >= end) return -1;
        unsigned marker = h[pos++];
        if (standalone(marker)) {
            if (marker == 0xD9) return -1;
            continue;
        }
        if (pos + 2 > end) return -1;
        size_t length = be16(h + pos);
        if (length < 2) return -1;
        if (supported_sof(marker)) {
            if (pos + 7 > end || length < 7) return -1;
            *ht = be16(h + pos + 3);
            *w = be16(h + pos + 5);
            return IMG_JPEG;
        }
        if (other_sof(marker) || marker == 0xDA) return -1;
        pos += length;
    }
    return -1;
}

/* images.py _webp: the first chunk after the RIFF header. */
static int webp(const unsigned char *h, size_t n, uint32_t *w, uint32_t *ht) {
    if (n < 16) return -1;
    const unsigned char *fourcc = h + 12, *p = h + 20;
    size_t len = n > 20 ? n - 20 : 0;
    if (memcmp(fourcc, "VP8 ", 4) == 0) {
        if (len < 10 || memcmp(p + 3, "\x9d\x01\x2a", 3) != 0 || (p[0] & 1)) return -1;
        *w = le16(p + 6) & 0x3FFF;
        *ht = le16(p + 8) & 0x3FFF;
        return IMG_WEBP;
    }
    if (memcmp(fourcc, "VP8L", 4) == 0) {
        if (len < 5 || p[0] != 0x2F) return -1;
        uint32_t bits = le32(p + 1);
        if (bits >> 29) return -1;
        *w = (bits & 0x3FFF) + 1;
        *ht = ((bits >> 14) & 0x3FFF) + 1;
        return IMG_WEBP;
    }
    if (memcmp(fourcc, "VP8X", 4) == 0) {
        if (len < 10) return -1;
        *w = le24(p + 4) + 1;
        *ht = le24(p + 7) + 1;
        return IMG_WEBP;
    }
    return -1;
}

/* images.py image_dimensions: the format (IMG_*) or -1, picked by signature as Go does. */
static int dimensions(const unsigned char *h, size_t n, uint32_t *w, uint32_t *ht) {
    if (n >= 8 && memcmp(h, "\x89PNG\r\n\x1a\n", 8) == 0) return png(h, n, w, ht);
    if (n >= 2 && h[0] == 0xFF && h[1] == 0xD8) return jpeg(h, n, w, ht);
    if (n >= 6 && (memcmp(h, "GIF87a", 6) == 0 || memcmp(h, "GIF89a", 6) == 0))
        return gif(h, n, w, ht);
    if (n >= 12 && memcmp(h, "RIFF", 4) == 0 && memcmp(h + 8, "WEBP", 4) == 0)
        return webp(h, n, w, ht);
    return -1;
}

/* dimensions(head) -> (format, width, height) or None: images.image_dimensions */
static PyObject *dimensions_py(PyObject *module, PyObject *arg) {
    (void)module;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    uint32_t w = 0, h = 0;
    int kind = dimensions(view.buf, (size_t)view.len, &w, &h);
    PyBuffer_Release(&view);
    if (kind < 0) Py_RETURN_NONE;
    return Py_BuildValue("(skk)", FORMAT_NAMES[kind], (unsigned long)w, (unsigned long)h);
}

/* inflate.py: the local header, and how quick_head reads what follows it. */
#define LOCAL_HEADER_SIZE 30
#define ONE_READ (64u << 10)
#define SLACK 512u
#define DEFLATE_INPUT (256u << 10)
#define RATIO_GRACE (1u << 20)
#define FLAG_ENCRYPTED 1u

typedef struct {
    unsigned long long max_member, max_total, total;
    double max_ratio;
} Budget;

typedef struct {
    int fd;
    uint64_t file_size;
    size_t n;             /* the head's size */
    unsigned char *block; /* local header + slack + data, or compressed data */
    unsigned char *out;   /* n bytes: an inflated head */
    z_stream zs;
    int zs_ready;
} Reader;

static int read_fully(int fd, unsigned char *buf, size_t want, uint64_t offset, size_t *got) {
    size_t done = 0;
    while (done < want) {
        ssize_t k = pread(fd, buf + done, want - done, (off_t)(offset + done));
        if (k < 0) {
            if (errno == EINTR) continue;
            return 0;
        }
        if (k == 0) break;
        done += (size_t)k;
    }
    *got = done;
    return 1;
}

/* inflate.py over_ratio */
static int over_ratio(uint64_t produced, uint64_t consumed, double limit) {
    return produced > RATIO_GRACE && (double)produced > limit * (double)(consumed ? consumed : 1);
}

/* quick_head: the head of member `r` into (*head, *len), or 0 where quick_head gives None. */
static int quick_head(Reader *rd, const MemberRecord *r, Budget *budget, const unsigned char **head,
                      size_t *len) {
    int stored = r->method == 0;
    if ((r->flags & FLAG_ENCRYPTED) || !(stored || r->method == 8) ||
        r->header_offset >= rd->file_size)
        return 0;
    if (stored && r->compressed_size != r->size) return 0;
    uint64_t want = stored ? (r->size < rd->n ? r->size : rd->n)
                           : (r->compressed_size < DEFLATE_INPUT ? r->compressed_size : DEFLATE_INPUT);
    int small = want <= ONE_READ;
    size_t got;
    size_t first = LOCAL_HEADER_SIZE + (small ? SLACK + (size_t)want : 0);
    if (!read_fully(rd->fd, rd->block, first, r->header_offset, &got)) return 0;
    if (got < LOCAL_HEADER_SIZE || memcmp(rd->block, "PK\3\4", 4) != 0) return 0;
    uint64_t skip = LOCAL_HEADER_SIZE + le16(rd->block + 26) + le16(rd->block + 28);
    /* offset + skip + csize > file_size, without the overflow a hostile zip64 size would
     * cause (header_offset < file_size is known) */
    uint64_t room = rd->file_size - r->header_offset;
    if (skip > room || r->compressed_size > room - skip) return 0;
    const unsigned char *data;
    if (small && skip + want <= got) {
        data = rd->block + skip;
    } else {
        if (!read_fully(rd->fd, rd->block, (size_t)want, r->header_offset + skip, &got)) return 0;
        if (got != want) return 0;
        data = rd->block;
    }
    size_t produced;
    uint64_t consumed;
    int ended;
    if (stored) {
        *head = data;
        produced = (size_t)want;
        consumed = want;
        ended = r->size < rd->n;
    } else {
        /* zlib's decompressobj(-15).decompress(data, n): inflate until the head is full, the
         * input used up or the stream ended; any error is quick_head's None. */
        z_stream *zs = &rd->zs;
        if (!rd->zs_ready) {
            memset(zs, 0, sizeof *zs);
            if (inflateInit2(zs, -15) != Z_OK) return 0;
            rd->zs_ready = 1;
        } else if (inflateReset(zs) != Z_OK) {
            return 0;
        }
        zs->next_in = (unsigned char *)data;
        zs->avail_in = (uInt)want;
        zs->next_out = rd->out;
        zs->avail_out = (uInt)rd->n;
        int ret;
        do {
            ret = inflate(zs, Z_SYNC_FLUSH);
        } while (ret == Z_OK && zs->avail_in > 0 && zs->avail_out > 0);
        if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) return 0;
        ended = ret == Z_STREAM_END;
        *head = rd->out;
        produced = rd->n - zs->avail_out;
        /* Python's unconsumed_tail: the input left when the head filled (none after the end). */
        consumed = want - (ended ? 0 : zs->avail_in);
    }
    /* ReadBudget.exceeded(len(head), consumed, len(head)) */
    if (produced > r->size || produced > budget->max_member ||
        budget->total + produced > budget->max_total ||
        over_ratio(produced, consumed, budget->max_ratio))
        return 0;
    if (produced < rd->n &&
        !(ended && produced == r->size && crc32(0L, *head, (uInt)produced) == r->crc))
        return 0;
    budget->total += produced;
    *len = produced;
    return 1;
}

static int writable(PyObject *obj, Py_buffer *view, Py_ssize_t itemsize, size_t count) {
    if (PyObject_GetBuffer(obj, view, PyBUF_WRITABLE) < 0) return 0;
    if (view->len < (Py_ssize_t)(itemsize * count)) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_ValueError, "an output array is shorter than the index");
        return 0;
    }
    return 1;
}

/* measure(table, fd, file_size, entries, start, n, state, width, height, max_member,
 *         max_total, total, max_ratio) -> (total, stop)
 *
 * Measures entries[start:] in order until one that quick_head would not read (or an index
 * past the table): its position is `stop` (len(entries) when none), for the caller to read
 * it the Python way before it calls again from stop + 1. So the entries are read, and the
 * budget charged, in exactly the order the caller gives. */
static PyObject *measure_py(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *capsule, *entries_obj, *state_obj, *width_obj, *height_obj;
    int fd;
    unsigned long long file_size;
    Py_ssize_t start, n;
    Budget budget;
    if (!PyArg_ParseTuple(args, "OiKOnnOOOKKKd", &capsule, &fd, &file_size, &entries_obj, &start,
                          &n, &state_obj, &width_obj, &height_obj, &budget.max_member,
                          &budget.max_total, &budget.total, &budget.max_ratio))
        return NULL;
    if (n <= 0 || n > (64 << 20)) {
        PyErr_SetString(PyExc_ValueError, "the head size must be 1 byte to 64 MiB");
        return NULL;
    }
    const MemberTable *t = PyCapsule_GetPointer(capsule, MEMBER_TABLE_CAPSULE);
    if (t == NULL) return NULL;
    Py_buffer entries, state, width, height;
    if (PyObject_GetBuffer(entries_obj, &entries, PyBUF_SIMPLE) < 0) return NULL;
    PyObject *result = NULL;
    Reader rd = {.fd = fd, .file_size = file_size, .n = (size_t)n};
    int have_state = 0, have_width = 0, have_height = 0;
    size_t count = (size_t)entries.len / 4;
    if (entries.len % 4 || start < 0 || (size_t)start > count) {
        PyErr_SetString(PyExc_ValueError, "entries must be packed uint32, start within them");
        goto done;
    }
    if (!(have_state = writable(state_obj, &state, 1, t->count))) goto done;
    if (!(have_width = writable(width_obj, &width, 4, t->count))) goto done;
    if (!(have_height = writable(height_obj, &height, 4, t->count))) goto done;
    size_t block_size = LOCAL_HEADER_SIZE + SLACK + (size_t)n;
    if (block_size < DEFLATE_INPUT) block_size = DEFLATE_INPUT;
    rd.block = malloc(block_size);
    rd.out = malloc((size_t)n);
    if (rd.block == NULL || rd.out == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    const uint32_t *in = entries.buf;
    unsigned char *st = state.buf;
    uint32_t *wd = width.buf, *ht = height.buf;
    size_t k = (size_t)start;
    Py_BEGIN_ALLOW_THREADS
    for (; k < count; k++) {
        uint32_t e = in[k];
        if (e >= t->count) break;
        if (st[e] != ST_UNREAD) continue;
        const unsigned char *head;
        size_t len;
        if (!quick_head(&rd, &t->records[e], &budget, &head, &len)) break;
        uint32_t w = 0, h = 0;
        int kind = dimensions(head, len, &w, &h);
        if (kind < 0) {
            st[e] = ST_NONE;
        } else {
            st[e] = (unsigned char)(ST_FORMAT + kind);
            wd[e] = w;
            ht[e] = h;
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_BuildValue("(Kn)", budget.total, (Py_ssize_t)k);
done:
    if (rd.zs_ready) inflateEnd(&rd.zs);
    free(rd.block);
    free(rd.out);
    if (have_height) PyBuffer_Release(&height);
    if (have_width) PyBuffer_Release(&width);
    if (have_state) PyBuffer_Release(&state);
    PyBuffer_Release(&entries);
    return result;
}

/* keep(rows, state, width, height, bound) -> the rows (packed int64, five a row, the entry
 * last) whose entry is past the arrays, or is an image of more than `bound` pixels (any
 * size when bound < 0): the fast path's image attachments that can still change a fact
 * (check/files.py fast_images), without a Python object for the others. */
static PyObject *keep_py(PyObject *module, PyObject *args) {
    (void)module;
    Py_buffer rows, state, width, height;
    long long bound;
    if (!PyArg_ParseTuple(args, "y*y*y*y*L", &rows, &state, &width, &height, &bound)) return NULL;
    PyObject *out = NULL;
    size_t count = (size_t)state.len;
    if (rows.len % 40 || (size_t)width.len < 4 * count || (size_t)height.len < 4 * count) {
        PyErr_SetString(PyExc_ValueError, "rows of five int64, arrays over the same entries");
        goto done;
    }
    out = PyBytes_FromStringAndSize(NULL, rows.len);
    if (out == NULL) goto done;
    const int64_t *in = rows.buf;
    int64_t *kept = (int64_t *)PyBytes_AS_STRING(out);
    const unsigned char *st = state.buf;
    const uint32_t *wd = width.buf, *ht = height.buf;
    size_t n = 0;
    for (size_t k = 0; k < (size_t)rows.len / 40; k++) {
        const int64_t *row = in + 5 * k;
        int64_t e = row[4];
        int keep = e < 0 || (uint64_t)e >= count;
        if (!keep && st[e] >= ST_FORMAT)
            keep = bound < 0 || (uint64_t)wd[e] * ht[e] > (uint64_t)bound;
        if (keep) memcpy(kept + 5 * n++, row, 40);
    }
    _PyBytes_Resize(&out, (Py_ssize_t)(n * 40));
done:
    PyBuffer_Release(&rows);
    PyBuffer_Release(&state);
    PyBuffer_Release(&width);
    PyBuffer_Release(&height);
    return out;
}

static PyMethodDef methods[] = {
    {"dimensions", dimensions_py, METH_O,
     "dimensions(head) -> (format, width, height) or None, as images.image_dimensions"},
    {"measure", measure_py, METH_VARARGS,
     "measure(table, fd, file_size, entries, start, n, state, width, height, max_member, "
     "max_total, total, max_ratio) -> (total, stop)"},
    {"keep", keep_py, METH_VARARGS,
     "keep(rows, state, width, height, bound) -> rows whose entry is unknown or has more "
     "than bound pixels (bound < 0: any)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_imagehead", "Image dimensions of zip members' heads, in bulk.", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__imagehead(void) {
    PyObject *m = PyModule_Create(&module_def);
    if (m == NULL) return NULL;
#ifdef SOURCE_SHA256
    if (PyModule_AddStringConstant(m, "SOURCE_SHA256", SOURCE_SHA256) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#endif
    return m;
}
