/* gc_reclaim.c: time of a full collection, rc_gc_collect(2), per object, on
 * three heaps of one-reference objects ("links"):
 *   gc_pairs  500,000 garbage pairs (two links holding each other)
 *   gc_rings  10,000 garbage rings of 100 links
 *   gc_live   1,000,000 live links in one chain held from the C stack
 * The collector is disabled while a heap is built (untimed); only the
 * collection is timed, and its result must be the garbage count (1,000,000,
 * 1,000,000, 0) or the program fails. Median of the repetitions; each
 * repetition builds its heap afresh.
 * Usage: gc_reclaim [repetitions (5)]; BENCH_GC_CPU=1 times CPU time
 * (gc_shapes.h)
 * Prints: RESULT <gc_pairs|gc_rings|gc_live> reclaim <ns> ns/object
 */
#include "bench_util.h"
#include "gc_shapes.h"

#include <reclaim.h>

static void link_traverse(void *self, rc_visit_fn visit, void *arg)
{
    visit(&((gc_link *)self)->ref, arg);
}

static const rc_type link_type = {
    .name = "Link",
    .size = sizeof(gc_link),
    .traverse = link_traverse,
};

static gc_link *new_link(void)
{
    gc_link *l = rc_new(&link_type);
    if (!l)
        bench_fail("rc_new: %s", rc_last_error());
    return l;
}

/* A chain of count links, each holding the next. Closed, the last holds the
 * first and the chain is garbage (NULL is returned); open, the caller gets
 * the reference to the head. */
static gc_link *make_chain(long count, bool closed)
{
    gc_link *head = new_link(), *tail = head;
    for (long i = 1; i < count; i++) {
        tail->ref = new_link();
        tail = tail->ref;
    }
    if (!closed)
        return head;
    tail->ref = head;
    return NULL;
}

static double collect_once(void *ctx)
{
    const gc_shape *shape = ctx;
    gc_link **heads = calloc((size_t)shape->groups, sizeof *heads);
    if (!heads)
        bench_fail("out of memory");
    rc_gc_disable();
    for (long g = 0; g < shape->groups; g++)
        heads[g] = make_chain(shape->group_size, shape->closed);
    uint64_t start = gc_clock_ns();
    long found = rc_gc_collect(2);
    uint64_t elapsed = gc_clock_ns() - start;
    gc_shape_check(shape, "reclaim", found);
    for (long g = 0; g < shape->groups; g++)
        rc_decref(heads[g]);
    free(heads);
    rc_gc_enable();
    return (double)elapsed / (double)gc_shape_objects(shape);
}

int main(int argc, char **argv)
{
    int reps = (int)bench_arg(argc, argv, 1, GC_REPS);
    for (int i = 0; i < GC_SHAPE_COUNT; i++)
        bench_result(gc_shapes[i].name, "reclaim",
                     bench_median_of(reps, collect_once, (void *)&gc_shapes[i]), "ns/object");
    return 0;
}
