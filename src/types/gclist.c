/* gclist.c: the gc module's functions that return lists (gc.get_objects,
 * gc.get_referrers, gc.get_referents, gc.garbage), built on the
 * collector's rc_gc_for_each_* walks (which gather first and hold each
 * object while the callback runs, so appending here is safe).
 *
 * A list made here is itself a new tracked object: get_objects leaves it
 * out of its own result, as CPython's gc.get_objects does.
 */
#include "types_internal.h"

typedef struct gather {
    void *list;
    int status;
} gather;

static bool append_one(void *obj, void *arg)
{
    gather *g = arg;
    if (obj == g->list)
        return true;
    g->status = rc_list_append(g->list, obj);
    return g->status == 0;
}

/* The gathered list, or NULL (list dropped, message set) on failure. */
static void *finish(gather *g, int walk_status, const char *fn)
{
    return rc_types_finish(g->list, g->status ? g->status : walk_status, fn);
}

void *rc_gc_get_objects(int generation)
{
    if (generation < -1 || generation >= RC_GC_GENERATIONS) {
        rc_set_error(RC_EINVAL, "rc_gc_get_objects: invalid generation %d", generation);
        return NULL;
    }
    gather g = {rc_list_new(), 0};
    if (!g.list)
        return NULL;
    int status = rc_gc_for_each_object(generation, append_one, &g);
    return finish(&g, status, "rc_gc_get_objects");
}

void *rc_gc_get_referrers(const void *obj)
{
    gather g = {rc_list_new(), 0};
    if (!g.list)
        return NULL;
    int status = rc_gc_for_each_referrer(obj, append_one, &g);
    return finish(&g, status, "rc_gc_get_referrers");
}

void *rc_gc_get_referents(void *obj)
{
    if (!obj) {
        rc_set_error(RC_EINVAL, "rc_gc_get_referents: obj is NULL");
        return NULL;
    }
    gather g = {rc_list_new(), 0};
    if (!g.list)
        return NULL;
    int status = rc_gc_for_each_referent(obj, append_one, &g);
    return finish(&g, status, "rc_gc_get_referents");
}

void *rc_gc_garbage_list(void)
{
    void *list = rc_list_new();
    if (!list)
        return NULL;
    /* by index: an append may run a collection that adds to the garbage */
    int status = 0;
    for (size_t i = 0; status == 0 && i < rc_gc_garbage_len(); i++)
        status = rc_list_append(list, rc_gc_garbage_item(i));
    return rc_types_finish(list, status, "rc_gc_garbage_list");
}
