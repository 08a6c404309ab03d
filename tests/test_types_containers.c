/* test_types_containers.c: tuple and list semantics with exact reference
 * counts, CPython's list growth sequence, stable sort and its mutation
 * check, cycles through containers, rc_sizeof and rc_total_sizeof. */
#include "check.h"
#include "nodes.h"

/* the body sizes of docs/types.md's formulas */
#define HEADER     16
#define LIST_BODY  32
#define TUPLE_BODY 8
#define STR_BODY   20

static void test_tuple(void)
{
    void *a = rc_int_new(1000), *b = rc_str_from("b"), *c = rc_list_new();
    void *t = rc_tuple_pack(3, a, b, c);
    CHECK_EQ(rc_tuple_len(t), 3);
    CHECK(rc_tuple_get(t, 0) == a && rc_tuple_get(t, 2) == c);
    CHECK(rc_tuple_get(t, 3) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "index 3 out of range");
    CHECK_EQ(rc_refcount(a), 2);
    CHECK_EQ(rc_refcount(c), 2);
    CHECK(rc_gc_is_tracked(t));
    rc_decref(t);
    CHECK_EQ(rc_refcount(a), 1);
    CHECK_EQ(rc_refcount(b), 1);
    CHECK(rc_tuple_pack(2, a, (void *)NULL) == NULL);
    CHECK_EQ(rc_refcount(a), 1); /* a failed pack takes nothing */
    void *e1 = rc_tuple_pack(0), *e2 = rc_tuple_from_array(0, NULL);
    CHECK(e1 == e2 && rc_is_immortal(e1));
    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
}

static void test_tuple_hash(void)
{
    /* CPython 3.8+: hash((1, 2, 3)), hash(()), hash((-1,)) */
    void *t = rc_tuple_pack(3, rc_int_new(1), rc_int_new(2), rc_int_new(3));
    CHECK(rc_hash(t) == UINT64_C(529344067295497451));
    CHECK(rc_hash(rc_tuple_pack(0)) == UINT64_C(5740354900026072187));
    void *m = rc_tuple_pack(1, rc_int_new(-1));
    CHECK(rc_hash(m) == UINT64_C(8078679518589016365));
    void *x = rc_str_from("key"), *y = rc_str_from("key");
    void *k = rc_int_new(5000), *l = rc_int_new(5000);
    void *t1 = rc_tuple_pack(2, x, k), *t2 = rc_tuple_pack(2, y, l);
    CHECK(rc_equal(t1, t2));
    CHECK_EQ(rc_hash(t1), rc_hash(t2));
    CHECK(!rc_equal(t1, t));
    rc_decref(t);
    rc_decref(m);
    rc_decref(t1);
    rc_decref(t2);
    rc_decref(x);
    rc_decref(y);
    rc_decref(k);
    rc_decref(l);
}

/* CPython's list_resize for an append to a list of length n and capacity cap */
static size_t cpython_capacity_after_append(size_t n, size_t cap)
{
    size_t newsize = n + 1;
    if (cap >= newsize && newsize >= (cap >> 1))
        return cap;
    size_t new_allocated = (newsize + (newsize >> 3) + 6) & ~(size_t)3;
    if (newsize - n > new_allocated - newsize)
        new_allocated = (newsize + 3) & ~(size_t)3;
    return new_allocated;
}

static void test_list_growth(void)
{
    void *list = rc_list_new();
    void *one = rc_int_new(1);
    CHECK_EQ(rc_list_capacity(list), 0);
    CHECK_EQ(rc_sizeof(list), HEADER + LIST_BODY);
    size_t expected = 0, mismatches = 0;
    size_t seen[16], n_seen = 0;
    seen[n_seen++] = 0;
    for (size_t i = 0; i < 100; i++) {
        expected = cpython_capacity_after_append(i, expected);
        rc_list_append(list, one);
        size_t cap = rc_list_capacity(list);
        mismatches += cap != expected;
        mismatches += rc_sizeof(list) != HEADER + LIST_BODY + 8 * cap;
        if (cap != seen[n_seen - 1] && n_seen < 16)
            seen[n_seen++] = cap;
    }
    CHECK_EQ(mismatches, 0);
    static const size_t cpython[] = {0, 4, 8, 16, 24, 32, 40, 52, 64, 76};
    for (size_t i = 0; i < 10; i++)
        CHECK_EQ(seen[i], cpython[i]);
    CHECK_EQ(rc_list_len(list), 100);
    CHECK_EQ(rc_list_capacity(list), 108); /* CPython: 100 appends -> 108 */
    /* shrinking: popping below half the capacity reallocates */
    while (rc_list_len(list) > 40)
        rc_list_delete(list, rc_list_len(list) - 1);
    CHECK_EQ(rc_list_capacity(list), 64); /* at newsize 53 < 108/2: (53 + 6 + 6) & ~3 */
    rc_list_clear(list);
    CHECK_EQ(rc_list_capacity(list), 0);
    CHECK_EQ(rc_list_len(list), 0);
    rc_decref(list);
}

static void test_list_ops(void)
{
    void *list = rc_list_new();
    void *a = rc_str_from("a"), *b = rc_str_from("b"), *c = rc_str_from("c");
    CHECK_EQ(rc_list_append(list, a), 0);
    CHECK_EQ(rc_list_append(list, c), 0);
    CHECK_EQ(rc_list_insert(list, 1, b), 0);  /* a b c */
    CHECK_EQ(rc_list_insert(list, 99, a), 0); /* past the end: appends */
    CHECK_EQ(rc_list_len(list), 4);
    CHECK(rc_list_get(list, 0) == a && rc_list_get(list, 1) == b);
    CHECK(rc_list_get(list, 2) == c && rc_list_get(list, 3) == a);
    CHECK_EQ(rc_refcount(a), 3);
    CHECK(rc_list_get(list, 4) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_list_get: index 4 out of range (length 4)");
    CHECK_EQ(rc_list_set(list, 3, c), 0); /* a b c c */
    CHECK_EQ(rc_refcount(a), 2);
    CHECK_EQ(rc_refcount(c), 3);
    CHECK_EQ(rc_list_set(list, 4, c), RC_EINVAL);
    CHECK_EQ(rc_list_append(list, NULL), RC_EINVAL);
    void *popped = rc_list_pop(list, 0); /* b c c */
    CHECK(popped == a);
    CHECK_EQ(rc_refcount(a), 2); /* the list's reference is now ours */
    rc_decref(popped);
    CHECK_EQ(rc_refcount(a), 1);
    CHECK(rc_list_get(list, 0) == b);
    CHECK_EQ(rc_list_delete(list, 1), 0); /* b c */
    CHECK_EQ(rc_refcount(c), 2);
    CHECK_EQ(rc_list_delete(list, 2), RC_EINVAL);
    CHECK(rc_list_pop(list, 2) == NULL);
    size_t i = 0, count = 0;
    void *item;
    while (rc_list_next(list, &i, &item))
        count += (count == 0 && item == b) || (count == 1 && item == c);
    CHECK_EQ(count, 2);
    rc_list_clear(list);
    CHECK_EQ(rc_refcount(b), 1);
    CHECK_EQ(rc_refcount(c), 1);
    CHECK_EQ(rc_list_len(list), 0);
    rc_list_append(list, a);
    rc_decref(list);
    CHECK_EQ(rc_refcount(a), 1);
    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
}

static int by_key(const void *x, const void *y, void *arg)
{
    (void)arg;
    int64_t a = rc_int_value(rc_tuple_get(x, 0)), b = rc_int_value(rc_tuple_get(y, 0));
    return (a > b) - (a < b);
}

static void test_sort_stable(void)
{
    void *list = rc_list_new();
    uint64_t seed = 12345;
    enum { N = 1000 };
    for (int i = 0; i < N; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        void *t = rc_tuple_pack(2, rc_int_new((int64_t)(seed >> 33) % 50), rc_int_new(i));
        rc_list_append(list, t);
        rc_decref(t);
    }
    CHECK_EQ(rc_list_sort(list, by_key, NULL), 0);
    size_t bad = 0;
    for (size_t i = 1; i < N; i++) {
        void *p = rc_list_get(list, i - 1), *q = rc_list_get(list, i);
        int64_t kp = rc_int_value(rc_tuple_get(p, 0)), kq = rc_int_value(rc_tuple_get(q, 0));
        int64_t sp = rc_int_value(rc_tuple_get(p, 1)), sq = rc_int_value(rc_tuple_get(q, 1));
        bad += kp > kq || (kp == kq && sp > sq); /* stable: equal keys keep order */
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(rc_list_len(list), N);
    CHECK_EQ(rc_refcount(rc_list_get(list, 0)), 1);
    rc_decref(list);
}

typedef struct meddler {
    void *list;
    void *extra;
    size_t len_seen;
    int calls;
} meddler;

static int meddling_cmp(const void *x, const void *y, void *arg)
{
    meddler *m = arg;
    if (m->calls++ == 3) {
        m->len_seen = rc_list_len(m->list);
        rc_list_append(m->list, m->extra);
    }
    return by_key(x, y, NULL);
}

static void test_sort_mutation(void)
{
    void *list = rc_list_new();
    for (int i = 0; i < 30; i++) {
        void *t = rc_tuple_pack(1, rc_int_new(29 - i));
        rc_list_append(list, t);
        rc_decref(t);
    }
    meddler m = {list, rc_str_from("extra"), 99, 0};
    CHECK_EQ(rc_list_sort(list, meddling_cmp, &m), RC_ESTATE);
    CHECK_STR_CONTAINS(rc_last_error(), "list modified during sort");
    CHECK_EQ(m.len_seen, 0);         /* the list looked empty */
    CHECK_EQ(rc_list_len(list), 30); /* the sorted items are back, the extra dropped */
    CHECK_EQ(rc_refcount(m.extra), 1);
    size_t sorted = 0;
    for (size_t i = 0; i < 30; i++)
        sorted += rc_int_value(rc_tuple_get(rc_list_get(list, i), 0)) == (int64_t)i;
    CHECK_EQ(sorted, 30);
    CHECK_EQ(rc_list_sort(list, NULL, NULL), RC_EINVAL);
    CHECK_EQ(rc_list_append(list, m.extra), 0); /* a normal list again */
    rc_decref(m.extra);
    rc_decref(list);
}

static void test_cycles(void)
{
    rc_gc_collect(2);
    void *self = rc_list_new();
    rc_list_append(self, self);
    CHECK_EQ(rc_refcount(self), 2);
    rc_decref(self);
    CHECK_EQ(rc_gc_collect(2), 1);

    void *list = rc_list_new(), *inner = rc_list_new();
    void *t = rc_tuple_pack(2, list, inner);
    rc_list_append(list, t);
    rc_list_append(inner, t);
    void *b = rc_bytes_new("xy", 2);
    void *v = rc_view_new(b);
    rc_list_append(inner, v); /* a view in the cycle, holding its base */
    rc_decref(b);
    rc_decref(v);
    rc_decref(t);
    rc_decref(inner);
    CHECK_EQ(rc_gc_collect(2), 0); /* list still held */
    rc_decref(list);
    CHECK_EQ(rc_gc_collect(2), 4); /* list, inner, tuple, view; the bytes dies by refcount */
    CHECK_EQ(rc_gc_collect(2), 0);

    counters_reset();
    Node *n = node_new(1);
    void *holder = rc_list_new();
    rc_list_append(holder, n);
    rc_assign(&n->a, holder);
    rc_decref(n);
    rc_decref(holder);
    CHECK_EQ(rc_gc_collect(2), 2);
    CHECK_EQ(node_destroyed, 1);
}

static void test_sizes(void)
{
    void *s = rc_str_from("hello");
    CHECK_EQ(rc_sizeof(s), HEADER + STR_BODY + 6);
    void *i = rc_int_new(1000);
    CHECK_EQ(rc_sizeof(i), HEADER + 8);
    void *t = rc_tuple_pack(2, s, s);
    CHECK_EQ(rc_sizeof(t), HEADER + TUPLE_BODY + 16);
    void *list = rc_list_new();
    rc_list_append(list, s);
    rc_list_append(list, t);
    rc_list_append(list, i);
    rc_list_append(list, s);
    rc_list_append(list, list); /* itself: counted once */
    size_t list_size = HEADER + LIST_BODY + 8 * 8;
    CHECK_EQ(rc_sizeof(list), list_size);
    CHECK_EQ(rc_total_sizeof(list), list_size + rc_sizeof(s) + rc_sizeof(t) + rc_sizeof(i));
    CHECK_EQ(rc_total_sizeof(s), rc_sizeof(s));
    void *b = rc_bytes_new("0123456789", 10);
    void *v = rc_view_slice(b, 2, 4);
    CHECK_EQ(rc_sizeof(v), HEADER + 24); /* not the base */
    CHECK_EQ(rc_total_sizeof(v), rc_sizeof(v) + HEADER + STR_BODY + 11);
    void *sb = rc_strbuilder_new();
    CHECK_EQ(rc_sizeof(sb), HEADER + 24);
    rc_strbuilder_append(sb, "x", 1);
    CHECK_EQ(rc_sizeof(sb), HEADER + 24 + 64);
    CHECK_EQ(rc_sizeof(NULL), 0);
    /* a deep chain: iterative, each once */
    void *head = rc_list_new();
    void *cur = head;
    for (int k = 0; k < 100000; k++) {
        void *next = rc_list_new();
        rc_list_append(cur, next);
        rc_decref(next);
        cur = next;
    }
    CHECK_EQ(rc_total_sizeof(head), 100000 * (HEADER + LIST_BODY + 4 * 8) + HEADER + LIST_BODY);
    rc_decref(head);
    rc_list_clear(list);
    rc_decref(list);
    rc_decref(t);
    rc_decref(s);
    rc_decref(i);
    rc_decref(v);
    rc_decref(b);
    rc_decref(sb);
}

int main(void)
{
    test_tuple();
    test_tuple_hash();
    test_list_growth();
    test_list_ops();
    test_sort_stable();
    test_sort_mutation();
    test_cycles();
    test_sizes();
    return check_report();
}
