/* set_table.c: the set's hash table mechanics (see set_table.h): probing,
 * lookup with restarts, insertion with the resize CPython makes after it,
 * removal, iteration and the checker.
 *
 * User code can run in a key's equal hook (a lookup holds the compared key
 * and looks again if the set changed) and in the collection a failing
 * allocation may run: memory for a table is found before anything changes,
 * and the whole addition starts again if the set changed meanwhile.
 */
#include "set_table.h"

enum { LINEAR_PROBES = 9, PERTURB_SHIFT = 5, MAX_RESTARTS = 100 };
#define DUMMY_HASH UINT64_MAX

size_t rc_set_table_bytes(const rc_set_body *s)
{
    return s->table ? (s->mask + 1) * sizeof(rc_set_entry) : 0;
}

typedef enum { NO_MATCH, MATCH, CHANGED } match_result;

static match_result compare(rc_set_body *s, rc_set_entry *entry, const void *key,
                            rc_types_match_fn match)
{
    void *ek = entry->key;
    int quick = rc_types_match_quick(ek, key, match);
    if (quick >= 0)
        return quick ? MATCH : NO_MATCH;
    rc_set_entry *table = s->table;
    uint64_t version = s->version;
    rc_incref(ek);
    bool equal = match(ek, key);
    rc_decref(ek);
    if (s->version != version || s->table != table || entry->key != ek)
        return CHANGED;
    return equal ? MATCH : NO_MATCH;
}

typedef struct probe_result {
    rc_set_entry *found;    /* the active entry for key */
    rc_set_entry *freeslot; /* else: the first dummy passed, */
    rc_set_entry *unused;   /* or the unused entry that ended the probe */
} probe_result;

/* One probe; false if the set changed under a comparison. */
static bool probe(rc_set_body *s, const void *key, uint64_t hash, rc_types_match_fn match,
                  probe_result *r)
{
    *r = (probe_result){NULL, NULL, NULL};
    if (!s->table)
        return true;
    size_t mask = s->mask, i = (size_t)hash & mask;
    uint64_t perturb = hash;
    for (;;) {
        rc_set_entry *entry = &s->table[i];
        size_t probes = i + LINEAR_PROBES <= mask ? LINEAR_PROBES : 0;
        do {
            if (!entry->key) {
                if (entry->hash == 0) {
                    r->unused = entry;
                    return true;
                }
                if (!r->freeslot)
                    r->freeslot = entry;
            } else if (entry->key == key) {
                r->found = entry;
                return true;
            } else if (entry->hash == hash) {
                match_result m = compare(s, entry, key, match);
                if (m == CHANGED)
                    return false;
                if (m == MATCH) {
                    r->found = entry;
                    return true;
                }
            }
            entry++;
        } while (probes--);
        perturb >>= PERTURB_SHIFT;
        i = (i * 5 + 1 + (size_t)perturb) & mask;
    }
}

static bool probe_restarting(rc_set_body *s, const void *key, uint64_t hash,
                             rc_types_match_fn match, probe_result *r, const char *fn)
{
    for (int restarts = 0; restarts < MAX_RESTARTS; restarts++) {
        if (probe(s, key, hash, match, r))
            return true;
    }
    rc_set_error(RC_ESTATE, "%s: the set changed during every comparison of %d lookups", fn,
                 MAX_RESTARTS);
    return false;
}

int rc_set_table_find(rc_set_body *s, const void *key, uint64_t hash, rc_types_match_fn match,
                      rc_set_entry **found, const char *fn)
{
    probe_result r;
    if (!probe_restarting(s, key, hash, match, &r, fn))
        return RC_ESTATE;
    *found = r.found;
    return 0;
}

/* Puts key in a table known to hold no equal key and no dummies. */
static void insert_clean(rc_set_entry *table, size_t mask, void *key, uint64_t hash)
{
    size_t i = (size_t)hash & mask;
    uint64_t perturb = hash;
    for (;;) {
        rc_set_entry *entry = &table[i];
        size_t probes = i + LINEAR_PROBES <= mask ? LINEAR_PROBES : 0;
        do {
            if (!entry->key && entry->hash == 0) {
                entry->key = key;
                entry->hash = hash;
                return;
            }
            entry++;
        } while (probes--);
        perturb >>= PERTURB_SHIFT;
        i = (i * 5 + 1 + (size_t)perturb) & mask;
    }
}

/* The table size CPython's set_table_resize picks for minused entries. */
static size_t size_for(size_t minused)
{
    size_t size = RC_SET_MINSIZE;
    while (size <= minused && size < ((size_t)1 << 58))
        size <<= 1;
    return size;
}

/* Moves the active entries into table (zeroed, size entries). */
static void rebuild(rc_set_body *s, rc_set_entry *table, size_t size)
{
    for (size_t i = 0; s->table && i <= s->mask; i++) {
        if (s->table[i].key)
            insert_clean(table, size - 1, s->table[i].key, s->table[i].hash);
    }
    rc_free(s->table);
    s->table = table;
    s->mask = size - 1;
    s->fill = s->used;
}

static void store(rc_set_body *s, rc_set_entry *entry, void *key, uint64_t hash, bool unused)
{
    entry->key = key;
    entry->hash = hash;
    s->fill += unused;
    s->used++;
    s->version++;
}

/* Adds insert at r.unused (or into a first table) with the resize that
 * insertion calls for: 1, RC_ENOMEM, or 0 if the set changed while memory
 * was found (the caller looks again). */
static int add_growing(rc_set_body *s, const probe_result *r, void *insert, uint64_t hash)
{
    size_t used = s->used + 1;
    size_t size = s->table ? size_for(used > 50000 ? used * 2 : used * 4) : RC_SET_MINSIZE;
    uint64_t version = s->version;
    rc_set_entry *table = rc_calloc(size, sizeof *table);
    if (!table)
        return RC_ENOMEM;
    if (s->version != version) { /* a collection ran user code */
        rc_free(table);
        return 0;
    }
    if (r->unused) { /* CPython's order: insert, then resize */
        store(s, r->unused, insert, hash, true);
        rebuild(s, table, size);
    } else { /* no table yet: the key goes into the first one */
        rebuild(s, table, size);
        insert_clean(s->table, s->mask, insert, hash);
        s->fill++;
        s->used++;
        s->version++;
    }
    return 1;
}

int rc_set_table_add(rc_set_body *s, const void *key, uint64_t hash, rc_types_match_fn match,
                     void *insert, const char *fn)
{
    for (int restarts = 0; restarts < MAX_RESTARTS; restarts++) {
        probe_result r;
        if (!probe_restarting(s, key, hash, match, &r, fn))
            return RC_ESTATE;
        if (r.found)
            return 0;
        if (r.freeslot) {
            store(s, r.freeslot, insert, hash, false);
            return 1;
        }
        if (s->table && (s->fill + 1) * 5 < s->mask * 3) {
            store(s, r.unused, insert, hash, true);
            return 1;
        }
        int status = add_growing(s, &r, insert, hash);
        if (status != 0)
            return status;
    }
    return rc_set_error(RC_ESTATE, "%s: the set changed while memory was found, %d times", fn,
                        MAX_RESTARTS);
}

void *rc_set_table_remove(rc_set_body *s, rc_set_entry *entry, bool quiet)
{
    void *key = entry->key;
    entry->key = NULL;
    entry->hash = DUMMY_HASH;
    s->used--;
    if (!quiet)
        s->version++;
    return key;
}

rc_set_entry *rc_set_table_detach(rc_set_body *s, size_t *n)
{
    rc_set_entry *table = s->table;
    *n = table ? s->mask + 1 : 0;
    s->table = NULL;
    s->mask = s->fill = s->used = 0;
    s->version++;
    return table;
}

void rc_set_table_release(rc_set_entry *table, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rc_decref(table[i].key);
    rc_free(table);
}

void rc_set_table_traverse(rc_set_body *s, rc_visit_fn visit, void *arg)
{
    for (size_t i = 0; s->table && i <= s->mask; i++) {
        if (s->table[i].key)
            visit(&s->table[i].key, arg);
    }
}

rc_iter rc_set_table_iter(const void *container, const rc_set_body *s)
{
    return (rc_iter){.container = container, .pos = 0, .len = s->used, .version = s->version};
}

int rc_set_table_iter_next(rc_iter *it, const rc_set_body *s, void **key)
{
    if (it->version != s->version)
        return rc_set_error(RC_ESTATE, s->used != it->len ? "Set changed size during iteration"
                                                          : "Set changed during iteration");
    while (s->table && it->pos <= s->mask) {
        void *k = s->table[it->pos++].key;
        if (k) {
            *key = k;
            return 1;
        }
    }
    return 0;
}

static int invalid(const char *what)
{
    rc_set_error(RC_EINVAL, "rc_set_table_validate: %s", what);
    return -1;
}

int rc_set_table_validate(rc_set_body *s)
{
    if (!s->table)
        return s->used || s->fill || s->mask ? invalid("counts without a table") : 0;
    size_t size = s->mask + 1, active = 0, dummies = 0;
    if (size < RC_SET_MINSIZE || (size & s->mask))
        return invalid("a table size that is not a power of two >= 8");
    for (size_t i = 0; i < size; i++) {
        rc_set_entry *entry = &s->table[i];
        if (!entry->key) {
            dummies += entry->hash != 0;
            continue;
        }
        active++;
        probe_result r;
        if (!probe(s, entry->key, entry->hash, NULL, &r) || r.found != entry)
            return invalid("an entry its hash does not find");
    }
    if (active != s->used || active + dummies != s->fill)
        return invalid("used or fill disagree with the entries");
    if (s->fill * 5 >= s->mask * 3)
        return invalid("a table fuller than 3/5");
    return 0;
}
