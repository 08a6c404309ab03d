/* test_patterns_pool.c: rc_pool, the seeds' ObjectPool: creations, reuses
 * and drops counted exactly, LIFO reuse, reset, max_size, exact reference
 * counts, release misuse refused, cycles through the pool collected, a
 * seeded model run, and out-of-memory injection at every failure point. */
#include "faults.h"

/* The seed's connection: {'connected': True, 'data': None}. */
typedef struct Conn {
    void *data; /* a reference (e.g. a str) or NULL */
    void *back; /* a reference, for cycles through the pool */
    long id;
    bool connected;
} Conn;

static size_t conn_made, conn_destroyed, resets;
static long next_id;
static bool create_fails, reset_refuses;
static void **reset_stash; /* reset stores a reference to the object here */

static void conn_traverse(void *self, rc_visit_fn visit, void *arg)
{
    Conn *c = self;
    visit(&c->data, arg);
    visit(&c->back, arg);
}

static void conn_destroy(void *self)
{
    (void)self;
    conn_destroyed++;
}

static const rc_type conn_type = {
    .name = "Conn",
    .size = sizeof(Conn),
    .traverse = conn_traverse,
    .destroy = conn_destroy,
};

static void *create_connection(void *arg)
{
    if (create_fails) {
        rc_report_error(RC_ESTATE, "no connections left (limit %d)", 3);
        return NULL;
    }
    Conn *c = rc_new(&conn_type);
    if (!c)
        return NULL;
    c->connected = true;
    c->id = ++next_id;
    c->back = rc_incref(arg); /* NULL unless a test passes an object */
    conn_made++;
    return c;
}

static bool reset_connection(void *obj, void *arg)
{
    (void)arg;
    Conn *c = obj;
    resets++;
    rc_assign(&c->data, NULL);
    if (reset_stash)
        rc_assign(reset_stash, obj);
    return !reset_refuses;
}

static void counters_clear(void)
{
    conn_made = conn_destroyed = resets = 0;
    create_fails = reset_refuses = false;
    reset_stash = NULL;
}

static rc_pool_stats stats_of(void *pool)
{
    rc_pool_stats s = {.struct_size = sizeof s};
    CHECK_EQ(rc_pool_get_stats(pool, &s), 0);
    return s;
}

static void check_stats(void *pool, size_t available, size_t in_use, size_t created, size_t reused,
                        size_t dropped)
{
    rc_pool_stats s = stats_of(pool);
    CHECK_EQ(s.available, available);
    CHECK_EQ(s.in_use, in_use);
    CHECK_EQ(s.created, created);
    CHECK_EQ(s.reused, reused);
    CHECK_EQ(s.dropped, dropped);
}

static void test_acquire_release(void)
{
    counters_clear();
    void *pool = rc_pool_new(create_connection, reset_connection, NULL, 10);
    CHECK(pool != NULL && rc_type_of(pool) == &rc_pool_type);
    CHECK(rc_gc_is_tracked(pool));
    check_stats(pool, 0, 0, 0, 0, 0);
    CHECK_EQ(stats_of(pool).max_size, 10);

    Conn *conn1 = rc_pool_acquire(pool);
    CHECK(conn1 && conn1->connected && conn1->id == next_id);
    CHECK_EQ(rc_refcount(conn1), 2); /* the caller's and the pool's in-use one */
    check_stats(pool, 0, 1, 1, 0, 0);
    conn1->data = rc_str_from("query result");
    void *data = rc_incref(conn1->data);

    CHECK_EQ(rc_pool_release(pool, conn1), 0); /* reused instead of destroyed */
    CHECK_EQ(resets, 1);
    CHECK(conn1->data == NULL); /* reset ran */
    CHECK_EQ(rc_refcount(data), 1);
    CHECK_EQ(rc_refcount(conn1), 1); /* the pool's only */
    check_stats(pool, 1, 0, 1, 0, 0);
    CHECK_EQ(conn_destroyed, 0);

    Conn *again = rc_pool_acquire(pool);
    CHECK(again == conn1);
    check_stats(pool, 0, 1, 1, 1, 0);
    CHECK_EQ(conn_made, 1);
    CHECK_EQ(rc_pool_release(pool, again), 0);
    rc_decref(data);
    rc_decref(pool);
    CHECK_EQ(conn_destroyed, 1); /* the pooled one died with the pool */
}

static void test_lifo_and_max_size(void)
{
    counters_clear();
    void *pool = rc_pool_new(create_connection, NULL, NULL, 2); /* no reset */
    Conn *c[5];
    for (int i = 0; i < 5; i++)
        c[i] = rc_pool_acquire(pool);
    check_stats(pool, 0, 5, 5, 0, 0);
    for (int i = 0; i < 5; i++)
        CHECK_EQ(rc_pool_release(pool, c[i]), 0);
    /* c[0], c[1] pooled; c[2..4] dropped and freed at once */
    check_stats(pool, 2, 0, 5, 0, 3);
    CHECK_EQ(conn_destroyed, 3);
    CHECK_EQ(resets, 0);
    /* most recently released first, as list.pop() */
    Conn *a = rc_pool_acquire(pool), *b = rc_pool_acquire(pool), *d = rc_pool_acquire(pool);
    CHECK(a == c[1] && b == c[0]);
    CHECK(d != c[0] && d != c[1] && d->id == next_id);
    check_stats(pool, 0, 3, 6, 2, 3);
    rc_pool_release(pool, a);
    rc_pool_release(pool, b);
    rc_pool_release(pool, d);
    check_stats(pool, 2, 0, 6, 2, 4);
    CHECK_EQ(rc_pool_clear(pool), 0);
    check_stats(pool, 0, 0, 6, 2, 4);
    CHECK_EQ(conn_destroyed, 6);
    rc_decref(pool);

    void *none = rc_pool_new(create_connection, NULL, NULL, 0); /* keeps nothing */
    Conn *x = rc_pool_acquire(none);
    rc_pool_release(none, x);
    check_stats(none, 0, 0, 1, 0, 1);
    CHECK_EQ(conn_destroyed, 7);
    rc_decref(none);
}

static void test_reset_and_sharing(void)
{
    counters_clear();
    void *pool = rc_pool_new(create_connection, reset_connection, NULL, 10);
    /* reset says the connection cannot be reused: dropped */
    Conn *c = rc_pool_acquire(pool);
    reset_refuses = true;
    CHECK_EQ(rc_pool_release(pool, c), 0);
    reset_refuses = false;
    check_stats(pool, 0, 0, 1, 0, 1);
    CHECK_EQ(conn_destroyed, 1);

    /* still referenced elsewhere: not reset, not pooled, left to its holder */
    c = rc_pool_acquire(pool);
    void *list = rc_list_new();
    rc_list_append(list, c);
    size_t resets_before = resets;
    CHECK_EQ(rc_pool_release(pool, c), 0);
    CHECK_EQ(resets, resets_before);
    check_stats(pool, 0, 0, 2, 0, 2);
    CHECK_EQ(rc_refcount(c), 1); /* the list's */
    CHECK_EQ(conn_destroyed, 1);
    rc_decref(list);
    CHECK_EQ(conn_destroyed, 2);

    /* reset keeps a reference: dropped by the pool, alive in the stash */
    void *stash = NULL;
    c = rc_pool_acquire(pool);
    reset_stash = &stash;
    CHECK_EQ(rc_pool_release(pool, c), 0);
    reset_stash = NULL;
    CHECK(stash == c);
    CHECK_EQ(rc_refcount(c), 1);
    check_stats(pool, 0, 0, 3, 0, 3);
    rc_decref(stash);
    CHECK_EQ(conn_destroyed, 3);
    rc_decref(pool);
}

static void test_misuse(void)
{
    counters_clear();
    void *pool = rc_pool_new(create_connection, reset_connection, NULL, 10);
    void *other = rc_pool_new(create_connection, reset_connection, NULL, 10);
    Conn *c = rc_pool_acquire(pool);

    /* not from this pool: refused, the caller keeps its reference */
    CHECK_EQ(rc_pool_release(other, c), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "is not in use from this pool");
    CHECK_EQ(rc_refcount(c), 2);
    Conn *stranger = rc_new(&conn_type);
    CHECK_EQ(rc_pool_release(pool, stranger), RC_EINVAL);
    CHECK_EQ(rc_refcount(stranger), 1);
    rc_decref(stranger);
    CHECK_EQ(rc_pool_release(pool, NULL), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_pool_release: obj is NULL");

    /* released twice: the second is refused (c is pooled, alive) */
    rc_incref(c);
    CHECK_EQ(rc_pool_release(pool, c), 0);
    CHECK_EQ(rc_refcount(c), 1); /* our extra one: shared, so dropped, not pooled */
    check_stats(pool, 0, 0, 1, 0, 1);
    CHECK_EQ(rc_pool_release(pool, c), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "released already");
    CHECK_EQ(rc_refcount(c), 1);
    rc_decref(c);

    /* wrong types and arguments */
    void *list = rc_list_new();
    CHECK(rc_pool_acquire(list) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_pool_acquire: expected a pool, got a list");
    CHECK_EQ(rc_pool_release(list, list), RC_EINVAL);
    CHECK_EQ(rc_pool_clear(NULL), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_pool_clear: expected a pool, got NULL");
    CHECK(rc_pool_new(NULL, NULL, NULL, 3) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_pool_new: create is NULL");
    rc_pool_stats s = {.struct_size = sizeof s - 8};
    CHECK_EQ(rc_pool_get_stats(pool, &s), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "struct_size is 48, expected 56");
    CHECK_EQ(rc_pool_get_stats(pool, NULL), RC_EINVAL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_pool_get_stats: out is NULL");
    CHECK_EQ(rc_pool_get_stats(list, &s), RC_EINVAL);

    /* a failing create: NULL with its message, counts unchanged */
    create_fails = true;
    CHECK(rc_pool_acquire(pool) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_pool_acquire: the create function returned NULL: "
                                        "no connections left (limit 3)");
    check_stats(pool, 0, 0, 1, 0, 1);
    create_fails = false;
    rc_decref(list);
    rc_decref(pool);
    rc_decref(other);
    CHECK_EQ(conn_destroyed, 2); /* stranger and c */
}

/* A create function that returns something that is not an object. */
static void *create_garbage(void *arg)
{
    (void)arg;
    static long not_an_object[4];
    return &not_an_object[2];
}

static void acquire_garbage(void)
{
    void *pool = rc_pool_new(create_garbage, NULL, NULL, 1);
    rc_pool_acquire(pool);
}

/* Objects in use and pooled objects that refer back to their pool: one
 * garbage cycle once the outside references are gone. */
static void test_cycles(void)
{
    counters_clear();
    rc_gc_collect(2);
    void *pool = rc_pool_new(create_connection, reset_connection, NULL, 10);
    Conn *in_use = rc_pool_acquire(pool), *pooled = rc_pool_acquire(pool);
    rc_assign(&in_use->back, pool);
    rc_assign(&pooled->back, pool);
    rc_pool_release(pool, pooled); /* reset clears data, not back */
    check_stats(pool, 1, 1, 2, 0, 0);
    rc_decref(in_use); /* the caller's reference: still in use, held by the pool */
    rc_decref(pool);   /* alive only through its objects now */
    CHECK_EQ(conn_destroyed, 0);
    CHECK_EQ(rc_gc_collect(2), 3); /* the pool and both connections */
    CHECK_EQ(conn_destroyed, 2);

    /* a pool dropped while an object is out: the object stays the caller's */
    pool = rc_pool_new(create_connection, NULL, NULL, 10);
    Conn *c = rc_pool_acquire(pool);
    rc_decref(pool);
    CHECK_EQ(rc_refcount(c), 1);
    CHECK(c->connected);
    rc_decref(c);
    CHECK_EQ(conn_destroyed, 3);
}

/* Random acquires and releases against a model of the pool. */
static void test_model(void)
{
    counters_clear();
    enum { MAX = 8, HELD_MAX = 64, STEPS = 20000 };
    void *pool = rc_pool_new(create_connection, reset_connection, NULL, MAX);
    void *held[HELD_MAX];
    size_t n_held = 0, available = 0, created = 0, reused = 0, dropped = 0;
    uint64_t x = 88172645463325252u;
    size_t mismatches = 0;
    for (int step = 0; step < STEPS; step++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        bool acquire = n_held == 0 || (n_held < HELD_MAX && x % 100 < 52);
        if (acquire) {
            held[n_held++] = rc_pool_acquire(pool);
            if (available) {
                available--, reused++;
            } else {
                created++;
            }
        } else {
            size_t i = (size_t)(x >> 32) % n_held;
            void *obj = held[i];
            held[i] = held[--n_held];
            reset_refuses = (x >> 8) % 10 == 0;
            rc_pool_release(pool, obj);
            reset_refuses = false;
            if (!((x >> 8) % 10 == 0) && available < MAX)
                available++;
            else
                dropped++;
        }
        rc_pool_stats s = stats_of(pool);
        mismatches += s.available != available || s.in_use != n_held || s.created != created ||
                      s.reused != reused || s.dropped != dropped ||
                      conn_made - conn_destroyed != available + n_held;
    }
    CHECK_EQ(mismatches, 0);
    CHECK(reused > 1000 && dropped > 100);
    printf("model: %zu created, %zu reused, %zu dropped\n", created, reused, dropped);
    for (size_t i = 0; i < n_held; i++)
        rc_pool_release(pool, held[i]);
    rc_decref(pool);
    CHECK_EQ(conn_made, conn_destroyed);
}

/* ---- out-of-memory injection ------------------------------------------- */

enum { F_MAX = 200, F_HELD = 300 };

/* Acquires 300 (the in-use set grows to large blocks), releases them all
 * (the available array grows to 200 slots), acquires again (200 reused).
 * Every failed call gives NULL and an out-of-memory message; the counts
 * always match what succeeded; afterwards everything is freed. */
static bool scenario_pool(long n, bool sticky, int variant)
{
    (void)variant;
    faults_begin();
    counters_clear();
    arm(n, sticky);
    error_reset();
    void *pool = rc_pool_new(create_connection, reset_connection, NULL, F_MAX);
    void *held[F_HELD];
    size_t n_held = 0, acquired = 0;
    if (!pool) {
        CHECK_STR_CONTAINS(rc_last_error(), "out of memory");
        total_failed++;
    }
    for (int round = 0; pool && round < 2; round++) {
        for (int i = 0; i < F_HELD; i++) {
            error_reset();
            void *c = rc_pool_acquire(pool);
            if (c) {
                held[n_held++] = c;
                acquired++;
            } else {
                CHECK_STR_CONTAINS(rc_last_error(), "out of memory");
                total_failed++;
            }
        }
        while (round == 0 && n_held > 0)
            CHECK_EQ(rc_pool_release(pool, held[--n_held]), 0);
    }
    bool reached = faults_disarm();
    if (pool) {
        rc_pool_stats s = stats_of(pool);
        CHECK_EQ(s.in_use, n_held);
        CHECK_EQ(s.created + s.reused, acquired);
        CHECK_EQ(s.created, conn_made); /* nothing made in vain */
        CHECK(s.available <= F_MAX);
        CHECK_EQ(conn_made - conn_destroyed, s.available + s.in_use);
        while (n_held > 0)
            CHECK_EQ(rc_pool_release(pool, held[--n_held]), 0);
        rc_decref(pool);
    }
    CHECK_EQ(conn_made, conn_destroyed);
    end();
    return reached;
}

int main(void)
{
    test_acquire_release();
    test_lifo_and_max_size();
    test_reset_and_sharing();
    test_misuse();
    CHECK_DEATH(acquire_garbage, "the create function's result");
    test_cycles();
    test_model();
    faults_sweep("pool", scenario_pool, 0, 4, 10000);
    return check_report();
}
