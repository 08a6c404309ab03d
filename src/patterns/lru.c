/* lru.c: a bounded LRU cache of objects, functools.lru_cache(maxsize).
 *
 * As CPython's C lru_cache: a dict maps each key to a link, and the links
 * form a circular doubly linked list through the cache's root, in order of
 * use: root.next is the least recently used, root.prev the most recent.
 *
 *     root <-> link(k1, v1) <-> link(k2, v2) <-> ... <-> root
 *              (oldest)                            (newest)
 *
 * Ownership: the dict owns the links (one reference each); a link owns its
 * key and value; the list's prev/next pointers own nothing. Invariants:
 * every link on the list is alive and in the dict; a link is on the list
 * exactly when its node.prev is not NULL; rc_dict_len(dict) <= maxsize
 * after every put; hits + misses count the lookups since the last clear.
 *
 * Links and cache may die in either order (a collection clearing a cycle
 * through the cache, heap teardown): a dying link unlinks itself, and a
 * dying cache first detaches every link still on its list, so neither ever
 * touches the other's freed memory.
 *
 * Every step that may run user code (a key's hash or equal hook, a value's
 * finalizer when a reference drops, the compute function) happens with the
 * cache consistent, holding a reference to the cache and to the link it is
 * working on.
 */
#include "patterns_internal.h"

typedef struct lru_node {
    struct lru_node *prev, *next;
} lru_node;

typedef struct lru_link {
    lru_node node; /* first: a link is a node */
    void *key, *value;
} lru_link;

typedef struct rc_lru_body {
    void *dict; /* key -> link */
    lru_node root;
    size_t maxsize, hits, misses;
    rc_lru_compute_fn compute;
    void *arg;
} rc_lru_body;

static void unlink_node(lru_node *node)
{
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->prev = node->next = NULL;
}

static void append_newest(rc_lru_body *c, lru_node *node)
{
    node->prev = c->root.prev;
    node->next = &c->root;
    c->root.prev->next = node;
    c->root.prev = node;
}

static void link_traverse(void *self, rc_visit_fn visit, void *arg)
{
    lru_link *link = self;
    visit(&link->key, arg);
    visit(&link->value, arg);
}

static void link_destroy(void *self)
{
    lru_link *link = self;
    if (link->node.prev)
        unlink_node(&link->node);
}

static const rc_type lru_link_type = {
    .name = "lru_link",
    .size = sizeof(lru_link),
    .traverse = link_traverse,
    .destroy = link_destroy,
};

static void lru_traverse(void *self, rc_visit_fn visit, void *arg)
{
    visit(&((rc_lru_body *)self)->dict, arg);
}

/* Takes every link off the list (they stay in the dict). */
static void detach_all(rc_lru_body *c)
{
    lru_node *node = c->root.next;
    while (node && node != &c->root) {
        lru_node *next = node->next;
        node->prev = node->next = NULL;
        node = next;
    }
    c->root.prev = c->root.next = &c->root;
}

static void lru_destroy(void *self) { detach_all(self); }

const rc_type rc_lru_type = {
    .name = "lru_cache",
    .size = sizeof(rc_lru_body),
    .traverse = lru_traverse,
    .destroy = lru_destroy,
};

void *rc_lru_new(size_t maxsize, rc_lru_compute_fn compute, void *arg)
{
    rc_lru_body *c = rc_new(&rc_lru_type);
    if (!c)
        return NULL;
    c->root.prev = c->root.next = &c->root;
    c->maxsize = maxsize;
    c->compute = compute;
    c->arg = arg;
    c->dict = rc_dict_new();
    if (!c->dict) {
        rc_decref(c);
        return NULL;
    }
    return c;
}

/* The link of key, borrowed, or NULL (missing, or the dict failed). */
static lru_link *find(const rc_lru_body *c, const void *key)
{
    return c->dict ? rc_dict_get(c->dict, key) : NULL;
}

static int check_key(const void *self, const void *key, const char *fn)
{
    if (!rc_types_check(self, &rc_lru_type, fn))
        return RC_EINVAL;
    if (!key)
        return rc_set_error(RC_EINVAL, "%s: key is NULL", fn);
    return 0;
}

/* The lookup of rc_lru_get and rc_lru_call, counted; the caller holds a
 * reference to c (the key's hooks may drop every other one). */
static int lookup(rc_lru_body *c, const void *key, void **value)
{
    lru_link *link = c->maxsize ? find(c, key) : NULL;
    if (!link || !link->node.prev) {
        c->misses++;
        return 0;
    }
    c->hits++;
    unlink_node(&link->node);
    append_newest(c, &link->node);
    *value = rc_incref(link->value);
    return 1;
}

int rc_lru_get(void *self, const void *key, void **value)
{
    if (value)
        *value = NULL;
    int code = check_key(self, key, "rc_lru_get");
    if (code == 0 && !value)
        code = rc_set_error(RC_EINVAL, "rc_lru_get: value is NULL");
    if (code)
        return code;
    rc_lru_body *c = rc_incref(self); /* alive across the key's hooks */
    int found = lookup(c, key, value);
    rc_decref(c);
    return found;
}

/* Drops least recently used links until at most maxsize remain. */
static void evict(rc_lru_body *c)
{
    while (rc_dict_len(c->dict) > c->maxsize && c->root.next != &c->root) {
        lru_link *oldest = rc_incref((lru_link *)c->root.next);
        unlink_node(&oldest->node);
        if (rc_dict_del(c->dict, oldest->key) != 0) { /* a key whose hash changed */
            rc_decref(oldest);
            break;
        }
        rc_decref(oldest); /* its key and value go: their finalizers see the cache consistent */
    }
}

/* A new link for key -> value, newest; then evicts. */
static int insert(rc_lru_body *c, void *key, void *value)
{
    lru_link *link = rc_new(&lru_link_type);
    if (!link)
        return RC_ENOMEM;
    link->key = rc_incref(key);
    link->value = rc_incref(value);
    int code = rc_dict_set(c->dict, key, link);
    if (code == 0)
        append_newest(c, &link->node);
    rc_decref(link); /* the dict's reference keeps it, if it took one */
    if (code == 0)
        evict(c);
    return code;
}

int rc_lru_put(void *self, void *key, void *value)
{
    int code = check_key(self, key, "rc_lru_put");
    if (code == 0 && !value)
        code = rc_set_error(RC_EINVAL, "rc_lru_put: value is NULL");
    rc_lru_body *c = self;
    if (code || c->maxsize == 0)
        return code;
    rc_incref(c);
    lru_link *link = rc_incref(find(c, key));
    if (link && link->node.prev) {
        unlink_node(&link->node);
        append_newest(c, &link->node);
        rc_assign(&link->value, value); /* the old value's death sees the new one in place */
    } else {
        code = insert(c, key, value);
    }
    rc_decref(link);
    rc_decref(c);
    return code;
}

/* The miss path of rc_lru_call: compute, then cache unless the key came in
 * meanwhile (a recursive call cached it). */
static void *compute_and_cache(rc_lru_body *c, void *key)
{
    rc_patterns_before_callback();
    void *value = c->compute(key, c->arg);
    if (!value) {
        rc_patterns_callback_failed(RC_EINVAL, "rc_lru_call", "the function returned NULL");
        return NULL;
    }
    rc_check_object(value, "rc_lru_call: the function's result");
    if (c->maxsize && c->dict && !find(c, key))
        insert(c, key, value); /* best effort: the caller gets the value either way */
    return value;
}

void *rc_lru_call(void *self, void *key)
{
    if (check_key(self, key, "rc_lru_call"))
        return NULL;
    rc_lru_body *c = self;
    if (!c->compute) {
        rc_set_error(RC_EINVAL, "rc_lru_call: the cache has no function (use rc_lru_get)");
        return NULL;
    }
    void *value = NULL;
    rc_incref(c); /* alive across the key's hooks and compute */
    if (!lookup(c, key, &value))
        value = compute_and_cache(c, key);
    rc_decref(c);
    return value;
}

int rc_lru_clear(void *self)
{
    if (!rc_types_check(self, &rc_lru_type, "rc_lru_clear"))
        return RC_EINVAL;
    rc_lru_body *c = rc_incref(self);
    detach_all(c);
    c->hits = c->misses = 0;
    if (c->dict)
        rc_dict_clear(c->dict); /* the links die off the list */
    rc_decref(c);
    return 0;
}

int rc_lru_cache_info(const void *self, rc_lru_info *out)
{
    if (!rc_patterns_check_stats(self, &rc_lru_type, out, sizeof *out, "rc_lru_cache_info"))
        return RC_EINVAL;
    const rc_lru_body *c = self;
    *out = (rc_lru_info){
        .struct_size = sizeof *out,
        .hits = c->hits,
        .misses = c->misses,
        .maxsize = c->maxsize,
        .currsize = c->dict ? rc_dict_len(c->dict) : 0,
    };
    return 0;
}
