/* nodes.h: object types shared by the tests. A Node holds two references
 * (a, b) and a value; destroy and finalize calls are counted and logged in
 * order, so tests can assert exactly what died and when. */
#ifndef RC_TEST_NODES_H
#define RC_TEST_NODES_H

#include <reclaim.h>

typedef struct Node {
    void *a;
    void *b;
    long value;
} Node;

static size_t node_destroyed;
static size_t node_finalized;
static long node_log[64];
static size_t node_log_len;
static void **node_resurrect_into; /* finalize stores self here if set */

static void node_traverse(void *self, rc_visit_fn visit, void *arg)
{
    Node *n = self;
    visit(&n->a, arg);
    visit(&n->b, arg);
}

static void node_destroy(void *self)
{
    Node *n = self;
    node_destroyed++;
    if (node_log_len < 64)
        node_log[node_log_len++] = n->value;
}

static void node_finalize(void *self)
{
    node_finalized++;
    if (node_resurrect_into)
        rc_assign(node_resurrect_into, self);
}

static const rc_type node_type = {
    .name = "Node",
    .size = sizeof(Node),
    .traverse = node_traverse,
    .destroy = node_destroy,
};

static const rc_type fin_node_type = {
    .name = "FinNode",
    .size = sizeof(Node),
    .traverse = node_traverse,
    .finalize = node_finalize,
    .destroy = node_destroy,
};

static const rc_type leaf_type = {
    .name = "Leaf",
    .size = sizeof(long),
    .destroy = NULL,
};

static inline Node *node_new(long value)
{
    Node *n = rc_new(&node_type);
    n->value = value;
    return n;
}

static inline void counters_reset(void)
{
    node_destroyed = node_finalized = node_log_len = 0;
    node_resurrect_into = NULL;
}

#endif
