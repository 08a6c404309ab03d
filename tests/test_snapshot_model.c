/* test_snapshot_model.c: random snapshots checked against a simple model.
 * Tracebacks are drawn from a pool; the model keeps each trace as text and
 * sums sizes and counts per key with linear searches, the way the
 * tracemalloc documentation defines them; statistics (every key, both
 * modes), comparisons, filters and dump/load round trips must agree with
 * it exactly, and results must be in the documented order.
 *
 *   test_snapshot_model [seed [scale]]     defaults 20240611, 1
 */
#include "snapshot_fixture.h"

#define POOL      60
#define MAX_DEPTH 6
#define MAX_KEYS  512

typedef struct mframe {
    int file, line, function;
} mframe;
typedef struct mtb {
    int n;
    mframe f[MAX_DEPTH];
} mtb;
typedef struct mtrace {
    size_t size;
    int tb;
} mtrace;
typedef struct model {
    mtb pool[POOL];
    mtrace *traces;
    size_t n;
} model;
typedef struct mkey {
    char text[256];
    size_t size, count;
} mkey;

static uint64_t rng;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static int below(int n) { return (int)(next() % (uint64_t)n); }

static void make_pool(model *m)
{
    for (int i = 0; i < POOL; i++) {
        m->pool[i].n = 1 + below(MAX_DEPTH);
        for (int k = 0; k < m->pool[i].n; k++)
            m->pool[i].f[k] = (mframe){below(4), 1 + below(5), below(2)};
    }
}

static void make_traces(model *m, size_t n)
{
    m->traces = calloc(n, sizeof *m->traces);
    m->n = n;
    for (size_t i = 0; i < n; i++)
        m->traces[i] = (mtrace){(size_t)below(4097), below(POOL)};
}

static rc_snapshot *build(const model *m)
{
    static const char *const functions[] = {"fa", "fb"};
    rc_snapshot *snap = rc_snapshot_new(MAX_DEPTH);
    for (size_t i = 0; i < m->n; i++) {
        const mtb *tb = &m->pool[m->traces[i].tb];
        uint32_t run[MAX_DEPTH];
        for (int k = 0; k < tb->n; k++) {
            char file[16];
            snprintf(file, sizeof file, "f%d.c", tb->f[k].file);
            run[k] = rc_snapshot_add_frame(snap, file, (uint32_t)tb->f[k].line,
                                           functions[tb->f[k].function]);
        }
        CHECK_EQ(rc_snapshot_add_trace(snap, m->traces[i].size,
                                       rc_snapshot_add_traceback(snap, run, (size_t)tb->n)),
                 0);
    }
    return snap;
}

/* ---- the model's statistics ------------------------------------------------- */

static void frame_key(const mframe *f, rc_trace_key key, char *out, size_t size)
{
    snprintf(out, size, "f%d.c:%d", f->file, key == RC_TRACE_KEY_FILENAME ? 0 : f->line);
}

static void add_to(mkey *keys, size_t *nkeys, const char *text, size_t size)
{
    for (size_t i = 0; i < *nkeys; i++)
        if (strcmp(keys[i].text, text) == 0) {
            keys[i].size += size;
            keys[i].count++;
            return;
        }
    snprintf(keys[*nkeys].text, sizeof keys[*nkeys].text, "%s", text);
    keys[*nkeys].size = size;
    keys[(*nkeys)++].count = 1;
}

/* The keys of one trace: one, or (cumulative) each distinct frame key. */
static size_t trace_keys(const mtb *tb, rc_trace_key key, bool cumulative, char out[][256])
{
    if (key == RC_TRACE_KEY_TRACEBACK) {
        size_t len = 0;
        for (int k = 0; k < tb->n; k++)
            len += (size_t)snprintf(out[0] + len, 256 - len, "%sf%d.c:%d", k ? "<" : "",
                                    tb->f[k].file, tb->f[k].line);
        return 1;
    }
    size_t n = 0;
    for (int k = 0; k < (cumulative ? tb->n : 1); k++) {
        char text[256];
        frame_key(&tb->f[k], key, text, sizeof text);
        bool seen = false;
        for (size_t j = 0; j < n; j++)
            seen = seen || strcmp(out[j], text) == 0;
        if (!seen)
            snprintf(out[n++], 256, "%s", text);
    }
    return n;
}

static size_t model_stats(const model *m, rc_trace_key key, bool cumulative, mkey *keys)
{
    size_t nkeys = 0;
    for (size_t i = 0; i < m->n; i++) {
        char texts[MAX_DEPTH][256];
        size_t n = trace_keys(&m->pool[m->traces[i].tb], key, cumulative, texts);
        for (size_t j = 0; j < n; j++)
            add_to(keys, &nkeys, texts[j], m->traces[i].size);
    }
    return nkeys;
}

static const mkey *find(const mkey *keys, size_t n, const char *text)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i].text, text) == 0)
            return &keys[i];
    return NULL;
}

static void check_against_model(rc_snapshot *snap, const model *m, rc_trace_key key,
                                bool cumulative)
{
    static mkey keys[MAX_KEYS];
    size_t nkeys = model_stats(m, key, cumulative, keys), n = 0;
    rc_statistic *stats = rc_snapshot_statistics(snap, key, cumulative, &n);
    CHECK_EQ(n, nkeys);
    for (size_t i = 0; stats && i < n; i++) {
        const mkey *want = find(keys, nkeys, tb_text(&stats[i].traceback));
        CHECK(want != NULL);
        CHECK(want && want->size == stats[i].size && want->count == stats[i].count);
        if (i == 0)
            continue;
        const rc_statistic *a = &stats[i - 1], *b = &stats[i];
        CHECK(a->size > b->size || (a->size == b->size && a->count > b->count) ||
              (a->size == b->size && a->count == b->count &&
               rc_traceback_compare(&a->traceback, &b->traceback) < 0));
    }
    rc_statistics_free(stats);
}

static void check_compare(rc_snapshot *new_snap, const model *new_m, rc_snapshot *old_snap,
                          const model *old_m, rc_trace_key key, bool cumulative)
{
    static mkey now[MAX_KEYS], then[MAX_KEYS];
    size_t n_now = model_stats(new_m, key, cumulative, now);
    size_t n_then = model_stats(old_m, key, cumulative, then);
    size_t only_old = 0;
    for (size_t i = 0; i < n_then; i++)
        only_old += find(now, n_now, then[i].text) == NULL;
    size_t n = 0;
    rc_statistic_diff *d = rc_snapshot_compare(new_snap, old_snap, key, cumulative, &n);
    CHECK_EQ(n, n_now + only_old);
    for (size_t i = 0; d && i < n; i++) {
        const char *text = tb_text(&d[i].traceback);
        const mkey *a = find(now, n_now, text), *b = find(then, n_then, text);
        int64_t size = a ? (int64_t)a->size : 0, count = a ? (int64_t)a->count : 0;
        CHECK(a || b);
        CHECK_EQ(d[i].size, size);
        CHECK_EQ(d[i].count, count);
        CHECK_EQ(d[i].size_diff, size - (b ? (int64_t)b->size : 0));
        CHECK_EQ(d[i].count_diff, count - (b ? (int64_t)b->count : 0));
        if (i > 0) {
            uint64_t prev = (uint64_t)llabs(d[i - 1].size_diff),
                     cur = (uint64_t)llabs(d[i].size_diff);
            CHECK(prev >= cur);
        }
    }
    rc_statistics_free(d);
}

/* ---- filters: tracemalloc's rules, on the model's frames ---------------------- */

static bool frame_test(const rc_trace_filter *f, const mframe *frame)
{
    char file[16];
    snprintf(file, sizeof file, "f%d.c", frame->file);
    bool name = strcmp(f->filename_pattern, "*") == 0 || strcmp(f->filename_pattern, file) == 0;
    return name && (f->lineno == 0 || (int)f->lineno == frame->line);
}

static bool model_match(const rc_trace_filter *f, const mtb *tb)
{
    if (!f->all_frames)
        return frame_test(f, &tb->f[0]) ^ !f->inclusive;
    for (int k = 0; k < tb->n; k++)
        if (frame_test(f, &tb->f[k]))
            return f->inclusive;
    return !f->inclusive;
}

static bool model_passes(const rc_trace_filter *filters, int n, const mtb *tb)
{
    bool have_include = false, included = false;
    for (int i = 0; i < n; i++)
        if (filters[i].inclusive) {
            have_include = true;
            included |= model_match(&filters[i], tb);
        }
    if (have_include && !included)
        return false;
    for (int i = 0; i < n; i++)
        if (!filters[i].inclusive && !model_match(&filters[i], tb))
            return false;
    return true;
}

static void check_filters(rc_snapshot *snap, const model *m)
{
    static const char *const patterns[] = {"f0.c", "f1.c", "f2.c", "f3.c", "*", "g.c"};
    rc_trace_filter filters[3];
    int n = below(4);
    for (int i = 0; i < n; i++)
        filters[i] = (rc_trace_filter){below(2), patterns[below(6)],
                                       (uint32_t)(below(2) ? 0 : 1 + below(5)), below(2)};
    model kept = *m;
    kept.traces = calloc(m->n ? m->n : 1, sizeof *kept.traces);
    kept.n = 0;
    for (size_t i = 0; i < m->n; i++)
        if (model_passes(filters, n, &m->pool[m->traces[i].tb]))
            kept.traces[kept.n++] = m->traces[i];
    rc_snapshot *f = rc_snapshot_filter(snap, filters, (size_t)n);
    CHECK(f != NULL);
    if (f) {
        CHECK_EQ(rc_snapshot_trace_count(f), kept.n);
        check_against_model(f, &kept, RC_TRACE_KEY_TRACEBACK, false);
        check_against_model(f, &kept, RC_TRACE_KEY_LINENO, true);
    }
    rc_snapshot_free(f);
    free(kept.traces);
}

static void check_all_keys(rc_snapshot *snap, const model *m)
{
    check_against_model(snap, m, RC_TRACE_KEY_FILENAME, false);
    check_against_model(snap, m, RC_TRACE_KEY_FILENAME, true);
    check_against_model(snap, m, RC_TRACE_KEY_LINENO, false);
    check_against_model(snap, m, RC_TRACE_KEY_LINENO, true);
    check_against_model(snap, m, RC_TRACE_KEY_TRACEBACK, false);
}

static void one_round(int scale)
{
    model a = {.traces = NULL}, b;
    make_pool(&a);
    b = a;
    make_traces(&a, (size_t)(1 + below(3000 * scale)));
    make_traces(&b, (size_t)below(3000 * scale));
    rc_snapshot *sa = build(&a), *sb = build(&b);
    check_all_keys(sa, &a);
    check_compare(sa, &a, sb, &b, RC_TRACE_KEY_LINENO, below(2));
    check_compare(sb, &b, sa, &a, RC_TRACE_KEY_FILENAME, below(2));
    check_compare(sa, &a, sb, &b, RC_TRACE_KEY_TRACEBACK, false);
    for (int i = 0; i < 8; i++)
        check_filters(sa, &a);
    size_t n;
    uint8_t *data = rc_dump_encode(sa, &n);
    rc_snapshot *back = rc_snapshot_load_buffer(data, n);
    CHECK(back != NULL);
    if (back)
        check_all_keys(back, &a);
    rc_snapshot_free(back);
    rc_snap_free(data);
    rc_snapshot_free(sa);
    rc_snapshot_free(sb);
    free(a.traces);
    free(b.traces);
}

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 20240611;
    int scale = argc > 2 ? atoi(argv[2]) : 1;
    rng = seed ? seed : 1;
    printf("seed %llu scale %d\n", (unsigned long long)seed, scale);
    for (int i = 0; i < 20; i++)
        one_round(scale);
    return check_report();
}
