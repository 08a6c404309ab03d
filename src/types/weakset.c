/* weakset.c: rc_weakset, weakref.WeakSet: a set table of weak references
 * to the items (weakdict_internal.h), filed under the items' hashes and
 * matched by equality of the live referents. An item leaves the set when
 * it dies; items must be objects that can die (not immortal). */
#include "weakdict_internal.h"

/* Takes every entry out, disarming the weak references first. */
static void weakset_clear_table(rc_set_body *s, bool teardown)
{
    size_t n;
    rc_set_entry *table = rc_set_table_detach(s, &n);
    if (!table)
        return;
    if (teardown) {
        rc_free(table);
        return;
    }
    for (size_t i = 0; i < n; i++)
        rc_weakdict_disarm(table[i].key);
    rc_set_table_release(table, n);
}

static void weakset_traverse(void *self, rc_visit_fn visit, void *arg)
{
    if (visit == rc_release_visit)
        weakset_clear_table(self, false);
    else
        rc_set_table_traverse(self, visit, arg);
}

static void weakset_destroy(void *self)
{
    weakset_clear_table(self, rc_object_heap(self)->destroying);
}

const rc_type rc_weakset_type = {
    .name = "weakset",
    .size = sizeof(rc_set_body),
    .traverse = weakset_traverse,
    .destroy = weakset_destroy,
};

void *rc_weakset_new(void) { return rc_new(&rc_weakset_type); }

/* The callback: ref's entry leaves the set, quietly. */
static void item_died(rc_weakref *ref, void *arg)
{
    rc_weak_record *record = arg;
    rc_set_body *s = record->container;
    rc_set_entry *entry = NULL;
    rc_set_table_find(s, ref, record->hash, NULL, &entry, "weak set"); /* identity: no user code */
    if (entry)
        rc_set_table_remove(s, entry, true);
    rc_weakdict_disarm(ref);
    if (entry)
        rc_decref(ref); /* the set's reference; the weakref layer still holds one */
}

static int item_ok(const void *s, const void *item, const char *fn)
{
    if (!rc_types_check(s, &rc_weakset_type, fn))
        return RC_EINVAL;
    return item ? 0 : rc_set_error(RC_EINVAL, "%s: item is NULL", fn);
}

static int find(const void *s, const void *item, uint64_t hash, rc_set_entry **entry,
                const char *fn)
{
    return rc_set_table_find((rc_set_body *)s, item, hash, rc_weakdict_match_referent, entry, fn);
}

int rc_weakset_add(void *obj, void *item)
{
    static const char fn[] = "rc_weakset_add";
    int status = item_ok(obj, item, fn);
    uint64_t hash = item ? rc_hash(item) : 0;
    rc_set_entry *entry;
    if (!status)
        status = find(obj, item, hash, &entry, fn);
    if (status || entry)
        return status;
    rc_weakref *w = rc_weakdict_ref(obj, item, NULL, hash, item_died);
    if (!w)
        return rc_types_prefix_error(rc_is_immortal(item) ? RC_EINVAL : RC_ENOMEM, fn);
    status = rc_set_table_add(obj, item, hash, rc_weakdict_match_referent, w, fn);
    if (status != 1) /* there already (user code added it meanwhile), or failed */
        rc_weakdict_drop(w);
    return status < 0 ? status : 0;
}

int rc_weakset_discard(void *obj, const void *item)
{
    static const char fn[] = "rc_weakset_discard";
    int status = item_ok(obj, item, fn);
    rc_set_entry *entry;
    if (!status)
        status = find(obj, item, rc_hash(item), &entry, fn);
    if (status || !entry)
        return status;
    rc_weakdict_drop(rc_set_table_remove(obj, entry, false));
    return 1;
}

int rc_weakset_contains(const void *obj, const void *item)
{
    int status = item_ok(obj, item, "rc_weakset_contains");
    rc_set_entry *entry;
    if (!status)
        status = find(obj, item, rc_hash(item), &entry, "rc_weakset_contains");
    return status ? status : entry != NULL;
}

size_t rc_weakset_len(const void *obj)
{
    return rc_types_check(obj, &rc_weakset_type, "rc_weakset_len")
               ? ((const rc_set_body *)obj)->used
               : 0;
}

void rc_weakset_clear(void *obj)
{
    if (rc_types_check(obj, &rc_weakset_type, "rc_weakset_clear"))
        weakset_clear_table(obj, false);
}

rc_iter rc_weakset_iter(const void *obj)
{
    if (!rc_types_check(obj, &rc_weakset_type, "rc_weakset_iter"))
        return (rc_iter){.container = NULL};
    return rc_set_table_iter(obj, obj);
}

int rc_weakset_next(rc_iter *it, void **item)
{
    if (!it)
        return rc_set_error(RC_EINVAL, "rc_weakset_next: it is NULL");
    if (!rc_types_check(it->container, &rc_weakset_type, "rc_weakset_next"))
        return RC_EINVAL;
    void *w;
    int status;
    while ((status = rc_set_table_iter_next(it, it->container, &w)) > 0) {
        void *referent = rc_weakdict_referent(w);
        if (!referent) /* died; its callback has not run yet */
            continue;
        if (item)
            *item = referent;
        return 1;
    }
    return status;
}
