/* pool.c: the seeds' ObjectPool, for reclaim objects.
 *
 * A pool holds two kinds of references: available[0..n_available), the
 * objects released and kept for reuse (most recent last: acquire takes from
 * the end, as the seed's list.pop() does), and in_use, one reference to
 * each object acquired and not yet released (the seed's _in_use set), so
 * that release accepts only this pool's objects, once.
 *
 * Invariants: n_available <= cap_available <= max_size;
 * available is a block of the heap (NULL when cap_available is 0); no
 * object is both available and in use; created + reused - (objects
 * released) = in_use.len. Counts change only when an operation succeeds.
 *
 * The pool traverses both kinds, so a cycle through a pool (an object that
 * refers back to its pool) is collected like any other.
 */
#include "idset.h"

#include <string.h>

typedef struct rc_objpool_body {
    rc_pool_create_fn create;
    rc_pool_reset_fn reset;
    void *arg;
    size_t max_size;
    void **available;
    size_t n_available, cap_available;
    rc_idset in_use;
    size_t created, reused, dropped;
} rc_objpool_body;

static void pool_traverse(void *self, rc_visit_fn visit, void *arg)
{
    rc_objpool_body *pool = self;
    for (size_t i = 0; i < pool->n_available; i++)
        visit(&pool->available[i], arg);
    rc_idset_traverse(&pool->in_use, visit, arg);
}

static void pool_destroy(void *self)
{
    rc_objpool_body *pool = self;
    rc_free(pool->available);
    pool->available = NULL;
    pool->n_available = pool->cap_available = 0;
    rc_idset_free(&pool->in_use);
}

const rc_type rc_pool_type = {
    .name = "pool",
    .size = sizeof(rc_objpool_body),
    .traverse = pool_traverse,
    .destroy = pool_destroy,
};

void *rc_pool_new(rc_pool_create_fn create, rc_pool_reset_fn reset, void *arg, size_t max_size)
{
    if (!create) {
        rc_set_error(RC_EINVAL, "rc_pool_new: create is NULL");
        return NULL;
    }
    rc_objpool_body *pool = rc_new(&rc_pool_type);
    if (!pool)
        return NULL;
    pool->create = create;
    pool->reset = reset;
    pool->arg = arg;
    pool->max_size = max_size;
    return pool;
}

/* The most recently pooled object (the pool's reference), or NULL. Slots
 * the collector cleared (NULL) are skipped. */
static void *pop_available(rc_objpool_body *pool)
{
    while (pool->n_available > 0) {
        void *item = pool->available[--pool->n_available];
        if (item)
            return item;
    }
    return NULL;
}

/* Doubles available's slots, up to max_size, if memory allows. rc_realloc
 * runs no user code (it collects no cycles), so nothing can release into
 * the pool while the array moves. */
static void grow_available(rc_objpool_body *pool)
{
    size_t cap = pool->cap_available ? pool->cap_available * 2 : 4;
    if (cap > pool->max_size)
        cap = pool->max_size;
    void **grown = rc_realloc(pool->available, cap * sizeof *grown);
    if (!grown)
        return;
    pool->available = grown;
    pool->cap_available = cap;
}

/* Pools item (taking the caller's reference) if there is room under
 * max_size and memory for the slot; otherwise drops it. True if pooled. */
static bool keep_or_drop(rc_objpool_body *pool, void *item)
{
    if (pool->n_available == pool->cap_available && pool->n_available < pool->max_size)
        grow_available(pool);
    if (pool->n_available < pool->cap_available) { /* cap_available <= max_size */
        pool->available[pool->n_available++] = item;
        return true;
    }
    pool->dropped++;
    rc_decref(item);
    return false;
}

/* A new object from create (a new reference), or NULL with a message. */
static void *create_one(rc_objpool_body *pool)
{
    rc_patterns_before_callback();
    void *item = pool->create(pool->arg);
    if (!item) {
        rc_patterns_callback_failed(RC_EINVAL, "rc_pool_acquire",
                                    "the create function returned NULL");
        return NULL;
    }
    rc_check_object(item, "rc_pool_acquire: the create function's result");
    return item;
}

void *rc_pool_acquire(void *self)
{
    if (!rc_types_check(self, &rc_pool_type, "rc_pool_acquire"))
        return NULL;
    rc_objpool_body *pool = self;
    /* room in the in-use set first, so that nothing is made in vain */
    if (rc_idset_reserve(&pool->in_use) != 0)
        return NULL;
    rc_incref(pool); /* alive across create */
    void *item = pop_available(pool);
    bool reused = item != NULL;
    if (!item)
        item = create_one(pool);
    /* again: create may have acquired from this pool itself (a no-op else) */
    if (item && !reused && rc_idset_reserve(&pool->in_use) != 0) {
        rc_decref(item);
        item = NULL;
    }
    if (item) {
        rc_idset_add(&pool->in_use, item); /* the pool's reference */
        rc_incref(item);                   /* the caller's */
        if (reused)
            pool->reused++;
        else
            pool->created++;
    }
    rc_decref(pool);
    return item;
}

/* True if the pool's reference is the only one: the object is no one
 * else's, so it may be reset and handed to the next acquirer. */
static bool sole_owner(const void *item) { return rc_refcount(item) == 1; }

int rc_pool_release(void *self, void *item)
{
    if (!rc_types_check(self, &rc_pool_type, "rc_pool_release"))
        return RC_EINVAL;
    rc_objpool_body *pool = self;
    if (!item)
        return rc_set_error(RC_EINVAL, "rc_pool_release: obj is NULL");
    /* by address only: a stray obj may be dead, its header not to be read */
    if (!rc_idset_remove(&pool->in_use, item))
        return rc_set_error(RC_EINVAL,
                            "rc_pool_release: %p is not in use from this pool (not acquired "
                            "from it, or released already)",
                            item);
    rc_incref(pool); /* alive across reset */
    rc_decref(item); /* the caller's reference; the pool's keeps it alive */
    bool reusable = sole_owner(item);
    if (reusable && pool->reset)
        reusable = pool->reset(item, pool->arg) && sole_owner(item);
    if (reusable) {
        keep_or_drop(pool, item);
    } else {
        pool->dropped++;
        rc_decref(item);
    }
    rc_decref(pool);
    return 0;
}

int rc_pool_clear(void *self)
{
    if (!rc_types_check(self, &rc_pool_type, "rc_pool_clear"))
        return RC_EINVAL;
    rc_objpool_body *pool = rc_incref(self);
    void *item;
    while ((item = pop_available(pool)) != NULL)
        rc_decref(item); /* may run a finalizer that uses the pool: it is consistent */
    rc_decref(pool);
    return 0;
}

int rc_pool_get_stats(const void *self, rc_pool_stats *out)
{
    if (!rc_patterns_check_stats(self, &rc_pool_type, out, sizeof *out, "rc_pool_get_stats"))
        return RC_EINVAL;
    const rc_objpool_body *pool = self;
    *out = (rc_pool_stats){
        .struct_size = sizeof *out,
        .max_size = pool->max_size,
        .available = pool->n_available,
        .in_use = pool->in_use.len,
        .created = pool->created,
        .reused = pool->reused,
        .dropped = pool->dropped,
    };
    return 0;
}
