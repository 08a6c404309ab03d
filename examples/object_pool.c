/* object_pool.c: the seeds' ObjectPool ("reuse objects to reduce memory
 * allocation overhead"), in C with rc_pool.
 *
 *     pool = ObjectPool(create_connection, reset_connection, max_size=10)
 *     conn1 = pool.acquire()
 *     # ... use connection ...
 *     pool.release(conn1)  # Reused instead of destroyed
 *
 * The pool counts what it did, so the example can show the reuse: 103
 * requests served by 3 connections. It exits non-zero if anything is not
 * as it says.
 */
#include <reclaim.h>

#include <stdio.h>

static int failures;

static void expect(int ok, const char *what)
{
    if (!ok) {
        printf("  !! unexpected: %s\n", what);
        failures++;
    }
}

/* {'connected': True, 'data': None} */
typedef struct Connection {
    bool connected;
    void *data; /* a str, or NULL */
    int serial;
} Connection;

static void connection_traverse(void *self, rc_visit_fn visit, void *arg)
{
    visit(&((Connection *)self)->data, arg);
}

static const rc_type connection_type = {
    .name = "Connection",
    .size = sizeof(Connection),
    .traverse = connection_traverse,
};

static void *create_connection(void *arg)
{
    int *opened = arg;
    Connection *conn = rc_new(&connection_type);
    if (conn) {
        conn->connected = true;
        conn->serial = ++*opened;
        printf("  (opened connection %d)\n", conn->serial);
    }
    return conn;
}

static bool reset_connection(void *obj, void *arg)
{
    (void)arg;
    Connection *conn = obj;
    rc_assign(&conn->data, NULL); /* conn['data'] = None */
    return conn->connected;       /* a broken connection is not pooled */
}

static void query(Connection *conn, int request)
{
    char text[64];
    snprintf(text, sizeof text, "result of request %d", request);
    void *result = rc_str_from(text);
    rc_assign(&conn->data, result);
    rc_decref(result);
}

int main(void)
{
    int opened = 0;
    void *pool = rc_pool_new(create_connection, reset_connection, &opened, 10);

    printf("conn1 = pool.acquire()\n");
    Connection *conn1 = rc_pool_acquire(pool);
    query(conn1, 0);
    printf("pool.release(conn1)    # reused instead of destroyed\n");
    rc_pool_release(pool, conn1);
    printf("conn2 = pool.acquire()\n");
    Connection *conn2 = rc_pool_acquire(pool);
    printf("conn2 is conn1: %s, conn2.data: %s\n", conn2 == conn1 ? "True" : "False",
           conn2->data ? "..." : "None");
    expect(conn2 == conn1 && conn2->data == NULL, "conn1 comes back, reset");
    rc_pool_release(pool, conn2);

    printf("\n102 requests, 3 at a time:\n");
    Connection *busy[3];
    for (int request = 0; request < 102; request += 3) {
        for (int k = 0; k < 3; k++) {
            busy[k] = rc_pool_acquire(pool);
            query(busy[k], request + k);
        }
        for (int k = 0; k < 3; k++)
            rc_pool_release(pool, busy[k]);
    }
    rc_pool_stats stats = {.struct_size = sizeof stats};
    rc_pool_get_stats(pool, &stats);
    printf("created %zu, reused %zu, dropped %zu, pooled now %zu\n", stats.created, stats.reused,
           stats.dropped, stats.available);
    expect(stats.created == 3 && opened == 3, "three connections opened in all");
    expect(stats.reused == 1 + 102 - 2, "all but the first three acquires reuse");
    expect(stats.available == 3 && stats.in_use == 0, "all three back in the pool");

    printf("\na connection that broke is dropped, not pooled:\n");
    Connection *conn = rc_pool_acquire(pool);
    conn->connected = false;
    rc_pool_release(pool, conn);
    rc_pool_get_stats(pool, &stats);
    printf("dropped %zu, pooled now %zu\n", stats.dropped, stats.available);
    expect(stats.dropped == 1 && stats.available == 2, "the broken one dropped");

    rc_decref(pool); /* the pooled connections go with it */
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
