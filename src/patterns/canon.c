/* canon.c: a canonicalizing cache, the seeds' CachedObject: one live object
 * per key, made on first request and shared while anyone holds it, through
 * a weak-value dict (weakref.WeakValueDictionary).
 *
 * The cache holds its keys and never its objects: when the last reference
 * to an object goes (by reference counting or in a collection), its entry
 * leaves the dict, and the next request for the key makes a new one.
 *
 * Invariants: every live object in the dict was made by make for an equal
 * key; at most one live object per key (an object is handed out only after
 * it is registered; one made while another for the same key appeared
 * meanwhile is dropped); made counts registrations, reused hits.
 */
#include "patterns_internal.h"

typedef struct rc_canon_body {
    void *dict; /* rc_weakvaluedict: key -> object, weakly */
    rc_canon_make_fn make;
    void *arg;
    size_t made, reused;
} rc_canon_body;

static void canon_traverse(void *self, rc_visit_fn visit, void *arg)
{
    visit(&((rc_canon_body *)self)->dict, arg);
}

const rc_type rc_canon_type = {
    .name = "canon",
    .size = sizeof(rc_canon_body),
    .traverse = canon_traverse,
};

void *rc_canon_new(rc_canon_make_fn make, void *arg)
{
    if (!make) {
        rc_set_error(RC_EINVAL, "rc_canon_new: make is NULL");
        return NULL;
    }
    rc_canon_body *c = rc_new(&rc_canon_type);
    if (!c)
        return NULL;
    c->make = make;
    c->arg = arg;
    c->dict = rc_weakvaluedict_new();
    if (!c->dict) {
        rc_decref(c);
        return NULL;
    }
    return c;
}

/* The live object for key (a new reference), or NULL. */
static void *lookup(const rc_canon_body *c, const void *key)
{
    return c->dict ? rc_incref(rc_weakvaluedict_get(c->dict, key)) : NULL;
}

/* Makes and registers the object for key; NULL with a message. */
static void *make_registered(rc_canon_body *c, void *key)
{
    rc_patterns_before_callback();
    void *obj = c->make(key, c->arg);
    if (!obj) {
        rc_patterns_callback_failed(RC_EINVAL, "rc_canon_get", "make returned NULL");
        return NULL;
    }
    rc_check_object(obj, "rc_canon_get: make's result");
    void *winner = lookup(c, key); /* make may have asked for key itself */
    if (winner) {
        rc_decref(obj);
        c->reused++;
        return winner;
    }
    int code = rc_weakvaluedict_set(c->dict, key, obj);
    if (code != 0) { /* unregistered, it would not be the one object for key */
        rc_patterns_callback_failed(code, "rc_canon_get", "cannot register the object");
        rc_decref(obj);
        return NULL;
    }
    c->made++;
    return obj;
}

void *rc_canon_get(void *self, void *key)
{
    if (!rc_types_check(self, &rc_canon_type, "rc_canon_get"))
        return NULL;
    if (!key) {
        rc_set_error(RC_EINVAL, "rc_canon_get: key is NULL");
        return NULL;
    }
    rc_canon_body *c = rc_incref(self); /* alive across the key's hooks and make */
    void *obj = lookup(c, key);
    if (obj)
        c->reused++;
    else
        obj = make_registered(c, key);
    rc_decref(c);
    return obj;
}

size_t rc_canon_len(const void *self)
{
    if (!rc_types_check(self, &rc_canon_type, "rc_canon_len"))
        return 0;
    const rc_canon_body *c = self;
    return c->dict ? rc_weakvaluedict_len(c->dict) : 0;
}

int rc_canon_get_stats(const void *self, rc_canon_stats *out)
{
    if (!rc_patterns_check_stats(self, &rc_canon_type, out, sizeof *out, "rc_canon_get_stats"))
        return RC_EINVAL;
    const rc_canon_body *c = self;
    *out = (rc_canon_stats){
        .struct_size = sizeof *out,
        .live = c->dict ? rc_weakvaluedict_len(c->dict) : 0,
        .made = c->made,
        .reused = c->reused,
    };
    return 0;
}
