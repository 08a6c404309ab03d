/* lazy.c: a value loaded on first use and released on demand (the seeds'
 * LazyDataLoader: a data property that loads once, and clear_cache).
 *
 * Invariants: value is NULL (empty) or a reference the lazy value owns;
 * loading is true only while the loader runs, and then value is NULL
 * unless the loader itself stored one (it cannot: rc_lazy_get refuses
 * re-entry, and only get stores). loads counts the loader's successes.
 *
 * The value is traversed, so a value that refers back to its lazy holder
 * forms a cycle the collector frees.
 */
#include "patterns_internal.h"

typedef struct rc_lazy_body {
    rc_lazy_load_fn load;
    void *arg;
    void *value;
    size_t loads;
    bool loading;
} rc_lazy_body;

static void lazy_traverse(void *self, rc_visit_fn visit, void *arg)
{
    visit(&((rc_lazy_body *)self)->value, arg);
}

const rc_type rc_lazy_type = {
    .name = "lazy",
    .size = sizeof(rc_lazy_body),
    .traverse = lazy_traverse,
};

void *rc_lazy_new(rc_lazy_load_fn load, void *arg)
{
    if (!load) {
        rc_set_error(RC_EINVAL, "rc_lazy_new: load is NULL");
        return NULL;
    }
    rc_lazy_body *lazy = rc_new(&rc_lazy_type);
    if (!lazy)
        return NULL;
    lazy->load = load;
    lazy->arg = arg;
    return lazy;
}

/* Runs the loader and keeps its value; NULL with a message on failure. */
static void *load_value(rc_lazy_body *lazy)
{
    lazy->loading = true;
    rc_patterns_before_callback();
    void *value = lazy->load(lazy->arg);
    lazy->loading = false;
    if (!value) {
        rc_patterns_callback_failed(RC_EINVAL, "rc_lazy_get", "the loader returned NULL");
        return NULL;
    }
    rc_check_object(value, "rc_lazy_get: the loader's result");
    lazy->value = value;
    lazy->loads++;
    return value;
}

void *rc_lazy_get(void *self)
{
    if (!rc_types_check(self, &rc_lazy_type, "rc_lazy_get"))
        return NULL;
    rc_lazy_body *lazy = self;
    if (lazy->value)
        return rc_incref(lazy->value);
    if (lazy->loading) {
        rc_set_error(RC_ESTATE, "rc_lazy_get: called from its own loader");
        return NULL;
    }
    rc_incref(lazy); /* alive across the loader */
    void *value = rc_incref(load_value(lazy));
    rc_decref(lazy);
    return value;
}

int rc_lazy_release(void *self)
{
    if (!rc_types_check(self, &rc_lazy_type, "rc_lazy_release"))
        return RC_EINVAL;
    rc_lazy_body *lazy = self;
    void *value = lazy->value;
    lazy->value = NULL; /* empty before the value's death runs any code */
    rc_decref(value);
    return 0;
}

bool rc_lazy_is_loaded(const void *self)
{
    return rc_types_check(self, &rc_lazy_type, "rc_lazy_is_loaded") &&
           ((const rc_lazy_body *)self)->value != NULL;
}

size_t rc_lazy_load_count(const void *self)
{
    return rc_types_check(self, &rc_lazy_type, "rc_lazy_load_count")
               ? ((const rc_lazy_body *)self)->loads
               : 0;
}
