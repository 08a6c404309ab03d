/* test_types_dict_stress.c: rc_dict against a simple model, and out of
 * memory.
 *
 * The model is an array of (key, value) in insertion order plus CPython's
 * table policy (size, entries used) and the table's kind (the first key's
 * type, str or int, until a key of the other type makes it general): after every one of 120,000
 * seeded random operations (set, replace, delete, get, pop, contains,
 * clear) per key kind (ints, strs, both), the length and rc_sizeof must
 * match it; every 256 operations, the iteration order, every reference
 * count and the table's invariants are checked too. Lookups use an equal
 * key object half of the time, so replace semantics (the first key object
 * stays) are modelled as well.
 *
 * The out-of-memory sweep grows a dict to 3,000 keys while the n-th
 * system request fails (once, then sticky): a failing rc_dict_set returns
 * RC_ENOMEM with a message and leaves the dict exactly as it was (length,
 * size, order, reference counts); with injection off it then finishes,
 * and the heap ends where it began. */
#include "faults.h"

#include "types/dict_table.h"

/* ---- the model ---- */

enum { NKEYS = 600, NVALUES = 40, OPS = 120000 };
enum { INTS, STRS, MIXED };

static void *keys[NKEYS], *twins[NKEYS]; /* equal keys, distinct objects */
static void *values[NVALUES];

typedef struct model {
    void *key[NKEYS]; /* the key object the dict holds */
    int id[NKEYS], value[NKEYS];
    size_t len;
    unsigned log2_size; /* 0: no table */
    size_t nentries;
    bool typed_table; /* a str or int table: 16-byte entries */
    bool str_table;   /* of the typed ones, a str table */
} model;

static model m;
static uint64_t seed = 20240601;

static uint64_t next_random(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

static void make_keys(int kind)
{
    for (int i = 0; i < NKEYS; i++) {
        bool str = kind == STRS || (kind == MIXED && i % 2);
        char text[32];
        snprintf(text, sizeof text, "key-%d", i);
        keys[i] = str ? rc_str_from(text) : rc_int_new(100000 + (int64_t)i * 977);
        twins[i] = str ? rc_str_from(text) : rc_int_new(100000 + (int64_t)i * 977);
    }
    for (int v = 0; v < NVALUES; v++)
        values[v] = rc_list_new(); /* compared by identity */
}

static void drop_keys(void)
{
    for (int i = 0; i < NKEYS; i++) {
        rc_decref(keys[i]);
        rc_decref(twins[i]);
    }
    for (int v = 0; v < NVALUES; v++)
        rc_decref(values[v]);
}

static size_t find(int id)
{
    for (size_t i = 0; i < m.len; i++) {
        if (m.id[i] == id)
            return i;
    }
    return SIZE_MAX;
}

/* CPython's calculate_log2_keysize (64-bit): bit length of ((n|8)-1)|7. */
static unsigned cpython_log2(size_t n)
{
    size_t x = ((n | 8) - 1) | 7;
    unsigned bits = 0;
    while (x) {
        bits++;
        x >>= 1;
    }
    return bits;
}

static void model_insert(int id, void *key, int value)
{
    bool str = rc_is_str(key);
    if (m.log2_size == 0) {
        m.log2_size = 3;
        m.nentries = 0;
        m.typed_table = true;
        m.str_table = str;
    } else if ((m.typed_table && m.str_table != str) ||
               m.nentries == ((size_t)2 << m.log2_size) / 3) {
        m.log2_size = cpython_log2(m.len * 3);
        m.nentries = m.len;
        m.typed_table = m.typed_table && m.str_table == str;
    }
    m.nentries++;
    m.key[m.len] = key;
    m.id[m.len] = id;
    m.value[m.len++] = value;
}

static void model_remove(size_t i)
{
    memmove(&m.key[i], &m.key[i + 1], (m.len - i - 1) * sizeof m.key[0]);
    memmove(&m.id[i], &m.id[i + 1], (m.len - i - 1) * sizeof m.id[0]);
    memmove(&m.value[i], &m.value[i + 1], (m.len - i - 1) * sizeof m.value[0]);
    m.len--;
}

static size_t model_sizeof(void)
{
    if (!m.log2_size)
        return 40;
    size_t size = (size_t)1 << m.log2_size;
    size_t width = m.log2_size < 8 ? 1 : m.log2_size < 16 ? 2 : 4;
    return 40 + 16 + size * width + (2 * size / 3) * (m.typed_table ? 16 : 24);
}

/* Order, identities, reference counts and the table, against the model. */
static size_t full_check(void *d)
{
    size_t bad = rc_dict_table_validate(d) != 0;
    rc_iter it = rc_dict_iter(d);
    void *key, *value;
    size_t i = 0;
    while (rc_dict_next(&it, &key, &value) > 0) {
        bad += i >= m.len || key != m.key[i] || value != values[m.value[i]];
        i++;
    }
    bad += i != m.len;
    for (int k = 0; k < NKEYS; k++) {
        size_t at = find(k);
        bad += rc_refcount(keys[k]) != 1u + (at != SIZE_MAX && m.key[at] == keys[k]);
        bad += rc_refcount(twins[k]) != 1u + (at != SIZE_MAX && m.key[at] == twins[k]);
    }
    for (int v = 0; v < NVALUES; v++) {
        size_t uses = 0;
        for (size_t j = 0; j < m.len; j++)
            uses += m.value[j] == v;
        bad += rc_refcount(values[v]) != 1 + uses;
    }
    return bad;
}

/* One random operation; the number of disagreements with the model. */
static size_t step(void *d)
{
    uint64_t r = next_random();
    int id = (int)(r % NKEYS), v = (int)((r >> 16) % NVALUES), op = (int)((r >> 32) % 1000);
    void *key = (r >> 48) & 1 ? twins[id] : keys[id];
    size_t at = find(id), bad = 0;
    if (op < 450) {
        bad += rc_dict_set(d, key, values[v]) != 0;
        if (at == SIZE_MAX)
            model_insert(id, key, v);
        else
            m.value[at] = v;
    } else if (op < 750) {
        int status = rc_dict_del(d, key);
        bad += status != (at == SIZE_MAX ? RC_ENOTFOUND : 0);
        if (at != SIZE_MAX)
            model_remove(at);
    } else if (op < 850) {
        void *got = rc_dict_get(d, key);
        bad += got != (at == SIZE_MAX ? NULL : values[m.value[at]]);
    } else if (op < 900) {
        void *got = rc_dict_pop(d, key);
        bad += got != (at == SIZE_MAX ? NULL : values[m.value[at]]);
        rc_decref(got);
        if (at != SIZE_MAX)
            model_remove(at);
    } else if (op < 999) {
        bad += rc_dict_contains(d, key) != (at != SIZE_MAX);
    } else {
        rc_dict_clear(d);
        m.len = 0;
        m.log2_size = 0;
    }
    bad += rc_dict_len(d) != m.len;
    bad += rc_sizeof(d) != model_sizeof();
    return bad;
}

static void stress(int kind)
{
    make_keys(kind);
    memset(&m, 0, sizeof m);
    void *d = rc_dict_new();
    size_t bad = 0, full_bad = 0;
    for (long i = 0; i < OPS; i++) {
        bad += step(d);
        if (i % 256 == 0)
            full_bad += full_check(d);
    }
    full_bad += full_check(d);
    CHECK_EQ(bad, 0);
    CHECK_EQ(full_bad, 0);
    printf("stress kind %d: %d operations, final length %zu, table 2**%u\n", kind, OPS, m.len,
           m.log2_size);
    rc_decref(d);
    for (int v = 0; v < NVALUES; v++)
        CHECK_EQ(rc_refcount(values[v]), 1);
    drop_keys();
}

/* ---- out of memory ---- */

enum { GROW = 3000 };
static void *grow_keys[GROW];

static size_t check_prefix(void *d, size_t n)
{
    size_t bad = rc_dict_len(d) != n || rc_dict_table_validate(d) != 0;
    rc_iter it = rc_dict_iter(d);
    void *key, *value;
    size_t i = 0;
    while (rc_dict_next(&it, &key, &value) > 0) {
        bad += i >= n || key != grow_keys[i] || value != grow_keys[i];
        i++;
    }
    for (size_t k = 0; k < GROW; k++)
        bad += rc_refcount(grow_keys[k]) != (k < n ? 3 : 1);
    return bad + (i != n);
}

static bool scenario_grow(long n, bool sticky, int str_keys)
{
    faults_begin();
    for (size_t k = 0; k < GROW; k++) {
        char text[32];
        snprintf(text, sizeof text, "k%zu", k);
        grow_keys[k] = str_keys ? rc_str_from(text) : rc_int_new(1000 + (int64_t)k);
    }
    void *d = rc_dict_new();
    arm(n, sticky);
    size_t done = 0;
    for (; done < GROW; done++) {
        error_reset();
        size_t before = rc_sizeof(d);
        int status = rc_dict_set(d, grow_keys[done], grow_keys[done]);
        if (status) {
            CHECK_EQ(status, RC_ENOMEM);
            CHECK_STR_CONTAINS(rc_last_error(), "out of memory");
            CHECK_EQ(rc_sizeof(d), before);
            CHECK_EQ(check_prefix(d, done), 0);
            total_failed++;
            break;
        }
    }
    bool reached = faults_disarm();
    for (; done < GROW; done++)
        CHECK_EQ(rc_dict_set(d, grow_keys[done], grow_keys[done]), 0);
    CHECK_EQ(check_prefix(d, GROW), 0);
    rc_decref(d);
    for (size_t k = 0; k < GROW; k++)
        rc_decref(grow_keys[k]);
    end();
    return reached;
}

static void sweep(int str_keys)
{
    faults_sweep("dict growth (variant 1: str keys)", scenario_grow, str_keys, 1, 10000);
}

int main(void)
{
    stress(INTS);
    stress(STRS);
    stress(MIXED);
    sweep(0);
    sweep(1);
    return check_report();
}
