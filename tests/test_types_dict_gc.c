/* test_types_dict_gc.c: dicts and sets and the cycle collector, and the gc
 * module's list functions.
 *
 * Cycles through dicts and sets are collected with exact counts. User code
 * that runs while the collector clears a dict (a weak reference callback of
 * an object only the dict held) may look at and change that dict: it sees
 * a consistent dict, and whatever it stores is released with the dict.
 * Both of the collector's ways of clearing are covered: the simple-garbage
 * path (no finalizer in the garbage) and the full one (a finalizer). */
#include "check.h"
#include "nodes.h"

static void test_self_cycles(void)
{
    rc_gc_collect(2);
    void *d = rc_dict_new(), *k = rc_str_from("self");
    rc_dict_set(d, k, d); /* d["self"] = d */
    rc_decref(d);
    CHECK_EQ(rc_gc_collect(2), 1);
    CHECK_EQ(rc_refcount(k), 1);

    d = rc_dict_new();
    rc_dict_set(d, d, k); /* d[d] = "self": a dict key hashes by address */
    rc_decref(d);
    CHECK_EQ(rc_gc_collect(2), 1);

    void *s = rc_set_new();
    void *t = rc_tuple_pack(1, s);
    rc_set_add(s, t); /* s = {(s,)} */
    rc_decref(t);
    rc_decref(s);
    CHECK_EQ(rc_gc_collect(2), 2);
    CHECK_EQ(rc_refcount(k), 1);
    rc_decref(k);
}

static void test_node_cycles(void)
{
    counters_reset();
    rc_gc_collect(2);
    /* 1,000 nodes, each a value of the dict and holding the dict */
    void *d = rc_dict_new();
    for (int i = 0; i < 1000; i++) {
        Node *n = node_new(i);
        rc_assign(&n->a, d);
        void *k = rc_int_new(10000 + i);
        rc_dict_set(d, k, n);
        rc_decref(k);
        rc_decref(n);
    }
    CHECK_EQ(rc_refcount(d), 1001);
    CHECK_EQ(rc_gc_collect(2), 0); /* held by us */
    rc_decref(d);
    CHECK_EQ(rc_gc_collect(2), 1001);
    CHECK_EQ(node_destroyed, 1000);

    /* a set and a dict holding each other through a node */
    counters_reset();
    void *s = rc_set_new();
    d = rc_dict_new();
    Node *n = node_new(7);
    rc_assign(&n->a, s);
    rc_assign(&n->b, d);
    rc_set_add(s, n);
    rc_dict_set(d, n, s);
    rc_decref(n);
    rc_decref(s);
    rc_decref(d);
    CHECK_EQ(rc_gc_collect(2), 3);
    CHECK_EQ(node_destroyed, 1);
}

/* ---- user code during the clearing ---- */

typedef struct probe_log {
    void *dict;
    size_t calls;
    size_t len_seen;
    int next_status;
    void *stored; /* stored into the dict by the callback */
} probe_log;

static probe_log plog;

/* Runs when the leaf only the dict held dies, in the middle of the
 * collector's clearing of the dict: looks at and changes the dict. */
static void leaf_died(rc_weakref *ref, void *arg)
{
    (void)ref;
    probe_log *log = arg;
    void *d = log->dict;
    log->calls++;
    log->len_seen = rc_dict_len(d);
    rc_iter it = rc_dict_iter(d);
    void *key, *value;
    int status;
    while ((status = rc_dict_next(&it, &key, &value)) > 0) {
    }
    log->next_status = status;
    void *k = rc_str_from("late");
    CHECK(rc_dict_get(d, k) == NULL);
    CHECK_EQ(rc_dict_set(d, k, log->stored), 0); /* released with the dict */
    CHECK_EQ(rc_dict_contains(d, k), 1);
    rc_decref(k);
    for (int i = 0; i < 20; i++) { /* enough to resize the table */
        void *ki = rc_int_new(70000 + i);
        rc_dict_set(d, ki, ki);
        rc_decref(ki);
    }
}

/* A cycle dict -> node -> dict, the dict also holding the only reference
 * to an untracked leaf with a weak reference: the leaf dies while the
 * collector clears the dict. with_finalizer puts a finalizer in the cycle
 * (the collector's full path) instead of a plain node (simple garbage). */
static void clearing_scenario(bool with_finalizer)
{
    counters_reset();
    rc_gc_collect(2);
    void *d = rc_dict_new();
    Node *n = rc_new(with_finalizer ? &fin_node_type : &node_type);
    n->value = 1;
    rc_assign(&n->a, d);
    void *kn = rc_str_from("node"), *kl = rc_str_from("leaf");
    rc_dict_set(d, kn, n);
    long *leaf = rc_new(&leaf_type);
    rc_dict_set(d, kl, leaf);
    plog = (probe_log){.dict = d, .stored = rc_str_from("stored")};
    rc_weakref *w = rc_weakref_new(leaf, leaf_died, &plog);
    rc_decref(leaf);
    rc_decref(n);
    rc_decref(d);
    CHECK_EQ(rc_gc_collect(2), 2); /* the dict and the node */
    CHECK_EQ(plog.calls, 1);
    CHECK_EQ(plog.next_status, 0); /* the iteration ran to its end, no error */
    CHECK_EQ(node_destroyed, 1);
    CHECK_EQ(node_finalized, with_finalizer ? 1 : 0);
    CHECK(!rc_weakref_alive(w));
    CHECK_EQ(rc_refcount(plog.stored), 1); /* the dict's reference was dropped */
    CHECK_EQ(rc_refcount(kn), 1);
    CHECK_EQ(rc_refcount(kl), 1);
    printf("clearing %s: the callback saw %zu entries\n",
           with_finalizer ? "with a finalizer" : "simple garbage", plog.len_seen);
    rc_decref(w);
    rc_decref(plog.stored);
    rc_decref(kn);
    rc_decref(kl);
}

/* A finalizer in a garbage cycle with a dict sees the dict intact. */
static size_t seen_len;
static void *seen_dict;
static void reading_finalize(void *self)
{
    (void)self;
    seen_len = rc_dict_len(seen_dict);
}
static const rc_type reading_type = {
    .name = "Reader",
    .size = sizeof(Node),
    .traverse = node_traverse,
    .finalize = reading_finalize,
};

static void test_finalizer_sees_dict(void)
{
    rc_gc_collect(2);
    void *d = rc_dict_new();
    Node *r = rc_new(&reading_type);
    rc_assign(&r->a, d);
    for (int i = 0; i < 10; i++)
        rc_dict_set(d, rc_int_new(i), r);
    seen_dict = d;
    rc_decref(r);
    rc_decref(d);
    CHECK_EQ(rc_gc_collect(2), 2);
    CHECK_EQ(seen_len, 10);
}

/* ---- gc.get_objects, get_referrers, get_referents, garbage ---- */

static bool list_has(void *list, const void *obj)
{
    for (size_t i = 0; i < rc_list_len(list); i++) {
        if (rc_list_get(list, i) == obj)
            return true;
    }
    return false;
}

static bool count_one(void *obj, void *arg)
{
    (void)obj;
    ++*(size_t *)arg;
    return true;
}

static void test_get_objects(void)
{
    rc_gc_collect(2);
    void *d = rc_dict_new(), *list = rc_list_new(), *str = rc_str_from("untracked");
    size_t tracked = 0;
    rc_gc_for_each_object(-1, count_one, &tracked);
    void *all = rc_gc_get_objects(-1);
    CHECK(all != NULL);
    CHECK_EQ(rc_list_len(all), tracked);
    CHECK(list_has(all, d) && list_has(all, list));
    CHECK(!list_has(all, all));
    CHECK(!list_has(all, str)); /* not tracked */
    CHECK_EQ(rc_refcount(d), 2);
    rc_decref(all);
    CHECK_EQ(rc_refcount(d), 1);
    rc_gc_collect(0); /* d and list move to generation 1 */
    void *g0 = rc_gc_get_objects(0), *g1 = rc_gc_get_objects(1);
    CHECK(!list_has(g0, d) && list_has(g1, d));
    CHECK(!list_has(g1, g1) && !list_has(g0, g0));
    rc_decref(g0);
    rc_decref(g1);
    CHECK(rc_gc_get_objects(3) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_gc_get_objects: invalid generation 3");
    rc_decref(d);
    rc_decref(list);
    rc_decref(str);
}

static void test_referrers_referents(void)
{
    void *x = rc_str_from("x"), *y = rc_int_new(5000);
    void *d = rc_dict_new(), *list = rc_list_new(), *t = rc_tuple_pack(2, x, list);
    void *atoms = rc_tuple_pack(2, x, y); /* never tracked: no referrer */
    rc_dict_set(d, y, x);
    rc_list_append(list, x);
    void *referrers = rc_gc_get_referrers(x);
    CHECK_EQ(rc_list_len(referrers), 3);
    CHECK(list_has(referrers, d) && list_has(referrers, list) && list_has(referrers, t));
    CHECK(!list_has(referrers, atoms));
    rc_decref(referrers);
    void *referents = rc_gc_get_referents(d);
    CHECK_EQ(rc_list_len(referents), 2); /* the key, then the value */
    CHECK(rc_list_get(referents, 0) == y && rc_list_get(referents, 1) == x);
    rc_decref(referents);
    referents = rc_gc_get_referents(x); /* a str refers to nothing */
    CHECK(referents && rc_list_len(referents) == 0);
    rc_decref(referents);
    CHECK(rc_gc_get_referents(NULL) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_gc_get_referents: obj is NULL");
    CHECK_EQ(rc_refcount(x), 5); /* ours, d, list, t, atoms: the lists are gone */
    void *objs[] = {d, t, list, atoms, x, y};
    for (size_t i = 0; i < 6; i++)
        rc_decref(objs[i]);
}

static void test_garbage_list(void)
{
    rc_gc_collect(2);
    rc_gc_set_debug(RC_GC_DEBUG_SAVEALL);
    void *d = rc_dict_new();
    rc_dict_set(d, d, d);
    rc_decref(d);
    CHECK_EQ(rc_gc_collect(2), 1);
    void *garbage = rc_gc_garbage_list();
    CHECK_EQ(rc_list_len(garbage), 1);
    CHECK(rc_list_get(garbage, 0) == d);
    CHECK_EQ(rc_dict_len(d), 1); /* saved, not cleared */
    CHECK_EQ(rc_refcount(d), 4); /* the garbage list, our copy, key, value */
    rc_gc_set_debug(0);
    rc_gc_garbage_clear();
    rc_decref(garbage);
    CHECK_EQ(rc_gc_garbage_len(), 0);
    CHECK_EQ(rc_gc_collect(2), 1); /* now unreachable for good */
    void *empty = rc_gc_garbage_list();
    CHECK(empty && rc_list_len(empty) == 0);
    rc_decref(empty);
}

int main(void)
{
    test_self_cycles();
    test_node_cycles();
    clearing_scenario(false);
    clearing_scenario(true);
    test_finalizer_sees_dict();
    test_get_objects();
    test_referrers_referents();
    test_garbage_list();
    return check_report();
}
