/* gc_boehm.c: Boehm GC's full collection, GC_gcollect(), per object, on
 * 1,000,000 live one-pointer objects in one chain held from the C stack
 * (the gc_live shape of gc_shapes.h; garbage costs Boehm no marking, so the
 * garbage shapes are not measured). Collection is disabled while the chain
 * is built; the chain is built once and collected once per repetition.
 * Usage: gc_boehm [repetitions (5)]; BENCH_GC_CPU=1 times CPU time
 * (gc_shapes.h)
 * Prints: RESULT gc_live boehm <ns> ns/object
 */
#include "bench_util.h"
#include "gc_shapes.h"

#include <gc.h>

static gc_link *make_chain(long count)
{
    gc_link *head = GC_MALLOC(sizeof *head), *tail = head;
    for (long i = 1; tail && i < count; i++) {
        tail->ref = GC_MALLOC(sizeof *tail);
        tail = tail->ref;
    }
    if (!tail)
        bench_fail("out of memory");
    return head;
}

static double collect_once(void *ctx)
{
    const gc_shape *shape = ctx;
    uint64_t start = gc_clock_ns();
    GC_gcollect();
    return (double)(gc_clock_ns() - start) / (double)gc_shape_objects(shape);
}

static long chain_length(const gc_link *l)
{
    long n = 0;
    for (; l; l = l->ref)
        n++;
    return n;
}

int main(int argc, char **argv)
{
    int reps = (int)bench_arg(argc, argv, 1, GC_REPS);
    const gc_shape *shape = &gc_shapes[GC_SHAPE_LIVE];
    GC_INIT();
    GC_disable();
    gc_link *volatile head = make_chain(shape->group_size);
    GC_enable();
    double ns = bench_median_of(reps, collect_once, (void *)shape);
    if (chain_length(head) != shape->group_size)
        bench_fail("boehm: the live chain lost objects");
    bench_result(shape->name, "boehm", ns, "ns/object");
    return 0;
}
