/* set.c: rc_set, Python's set: an unordered hash table (set_table.c) of
 * owned key references.
 *
 * As for dicts, references are dropped only once the table is consistent,
 * and dropping them all (death, or the collector clearing a cycle) takes
 * the table out first, so that user code run by the drops finds an empty
 * set. Union and intersection are in set_ops.c.
 */
#include "set_table.h"

static void set_traverse(void *self, rc_visit_fn visit, void *arg)
{
    rc_set_body *s = self;
    if (visit == rc_release_visit) {
        size_t n;
        rc_set_entry *table = rc_set_table_detach(s, &n);
        rc_set_table_release(table, n);
        return;
    }
    rc_set_table_traverse(s, visit, arg);
}

/* As dict_destroy: drops what user code stored while the collector was
 * clearing the set, except at heap teardown. */
static void set_destroy(void *self)
{
    size_t n;
    rc_set_entry *table = rc_set_table_detach(self, &n);
    if (!table)
        return;
    if (rc_object_heap(self)->destroying)
        rc_free(table);
    else
        rc_set_table_release(table, n);
}

const rc_type rc_set_type = {
    .name = "set",
    .size = sizeof(rc_set_body),
    .traverse = set_traverse,
    .destroy = set_destroy,
};

void *rc_set_new(void) { return rc_new(&rc_set_type); }

bool rc_is_set(const void *obj) { return obj && rc_type_of(obj) == &rc_set_type; }

static int set_key_ok(const void *s, const void *key, const char *fn)
{
    if (!rc_types_check(s, &rc_set_type, fn))
        return RC_EINVAL;
    return key ? 0 : rc_set_error(RC_EINVAL, "%s: key is NULL", fn);
}

int rc_set_add(void *obj, void *key)
{
    int status = set_key_ok(obj, key, "rc_set_add");
    if (status)
        return status;
    status = rc_set_table_add(obj, key, rc_hash(key), rc_types_match_equal, key, "rc_set_add");
    if (status == 1)
        rc_incref(key);
    return status < 0 ? status : 0;
}

int rc_set_discard(void *obj, const void *key)
{
    int status = set_key_ok(obj, key, "rc_set_discard");
    rc_set_entry *entry;
    if (!status)
        status = rc_set_table_find(obj, key, rc_hash(key), rc_types_match_equal, &entry,
                                   "rc_set_discard");
    if (status)
        return status;
    if (!entry)
        return 0;
    rc_decref(rc_set_table_remove(obj, entry, false));
    return 1;
}

int rc_set_contains(const void *obj, const void *key)
{
    int status = set_key_ok(obj, key, "rc_set_contains");
    rc_set_entry *entry;
    if (!status) /* a lookup holds keys, changes nothing */
        status = rc_set_table_find((rc_set_body *)obj, key, rc_hash(key), rc_types_match_equal,
                                   &entry, "rc_set_contains");
    return status ? status : entry != NULL;
}

size_t rc_set_len(const void *obj)
{
    return rc_types_check(obj, &rc_set_type, "rc_set_len") ? ((const rc_set_body *)obj)->used : 0;
}

void rc_set_clear(void *obj)
{
    if (!rc_types_check(obj, &rc_set_type, "rc_set_clear"))
        return;
    size_t n;
    rc_set_entry *table = rc_set_table_detach(obj, &n);
    rc_set_table_release(table, n);
}

rc_iter rc_set_iter(const void *s)
{
    if (!rc_types_check(s, &rc_set_type, "rc_set_iter"))
        return (rc_iter){.container = NULL};
    return rc_set_table_iter(s, s);
}

int rc_set_next(rc_iter *it, void **key)
{
    if (!it)
        return rc_set_error(RC_EINVAL, "rc_set_next: it is NULL");
    if (!rc_types_check(it->container, &rc_set_type, "rc_set_next"))
        return RC_EINVAL;
    void *k;
    int status = rc_set_table_iter_next(it, it->container, &k);
    if (status > 0 && key)
        *key = k;
    return status;
}
