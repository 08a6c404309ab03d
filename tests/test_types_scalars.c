/* test_types_scalars.c: int (small-int cache), str (hash, equality,
 * interning, concat, join), bytes and zero-copy views. */
#include "check.h"
#include "nodes.h"

#include <reclaim.h>

static void test_small_ints(void)
{
    void *a = rc_int_new(7), *b = rc_int_new(7);
    CHECK(a == b);
    CHECK(rc_is_immortal(a));
    CHECK_EQ(rc_refcount(a), RC_IMMORTAL);
    rc_decref(a);
    rc_decref(b);
    CHECK_EQ(rc_int_value(rc_int_new(7)), 7);
    CHECK(rc_int_new(-5) == rc_int_new(-5));
    CHECK(rc_int_new(256) == rc_int_new(256));
    CHECK(rc_is_immortal(rc_int_new(-5)) && rc_is_immortal(rc_int_new(256)));
    CHECK(rc_gc_is_tracked(a) == false);
}

static void test_large_ints(void)
{
    void *a = rc_int_new(257), *b = rc_int_new(257);
    CHECK(a != b);
    CHECK_EQ(rc_refcount(a), 1);
    CHECK(!rc_is_immortal(a));
    CHECK(rc_equal(a, b));
    CHECK_EQ(rc_hash(a), rc_hash(b));
    void *c = rc_int_new(-6), *d = rc_int_new(-6);
    CHECK(c != d);
    void *big = rc_int_new(INT64_MIN);
    CHECK(rc_int_value(big) == INT64_MIN);
    /* CPython's int hash: hash(7) == 7, hash(-1) == -2, hash(2**61 - 1) == 0 */
    CHECK_EQ(rc_hash(rc_int_new(7)), 7);
    void *m1 = rc_int_new(-1), *p = rc_int_new(((int64_t)1 << 61) - 1);
    CHECK(rc_hash(m1) == (uint64_t)-2);
    CHECK_EQ(rc_hash(p), 0);
    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
    rc_decref(d);
    rc_decref(big);
    rc_decref(p);
}

static void test_type_errors(void)
{
    void *list = rc_list_new();
    CHECK_EQ(rc_int_value(list), 0);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_int_value: expected an int, got a list");
    CHECK_EQ(rc_int_value(NULL), 0);
    CHECK_STR_CONTAINS(rc_last_error(), "got NULL");
    CHECK(rc_str_data(list) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_str_data: expected a str, got a list");
    CHECK_EQ(rc_str_len(rc_int_new(3)), 0);
    CHECK(rc_str_intern(list) == NULL);
    CHECK(rc_bytes_data(list) == NULL);
    CHECK(rc_view_new(list) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "expected a bytes or view, got a list");
    Node *node = node_new(1); /* a user type: named with its article too */
    CHECK(rc_view_new(node) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_view_new: expected a bytes or view, got a Node");
    CHECK_EQ(rc_int_value(node), 0);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_int_value: expected an int, got a Node");
    rc_decref(node);
    CHECK_EQ(rc_list_append(rc_int_new(1), list), RC_EINVAL);
    CHECK(!rc_is_int(list) && rc_is_list(list) && !rc_is_str(NULL));
    rc_decref(list);
}

static void test_str_basics(void)
{
    void *a = rc_str_from("hello"), *b = rc_str_new("hello world", 5);
    CHECK(a != b);
    CHECK_EQ(rc_str_len(a), 5);
    CHECK(strcmp(rc_str_data(b), "hello") == 0); /* NUL-terminated copy */
    CHECK(rc_equal(a, b) && rc_str_equal(a, b));
    CHECK_EQ(rc_str_hash(a), rc_str_hash(b));
    CHECK(rc_hash(a) == rc_str_hash(a));
    /* SipHash-1-3 with the key 00 01 .. 0f; the expected values come from
     * an independent implementation that gives CPython 3.11's hash(b"hello")
     * under PYTHONHASHSEED=0 (key zero) */
    CHECK(rc_str_hash(a) == UINT64_C(0xb6be2b8cd61385b7));
    CHECK(rc_str_hash(a) == UINT64_C(0xb6be2b8cd61385b7)); /* cached */
    void *empty_str = rc_str_from(""), *long_str = rc_str_from("hello world, a longer text");
    CHECK(rc_str_hash(empty_str) == UINT64_C(0xabac0158050fc4dc));
    CHECK(rc_str_hash(long_str) == UINT64_C(0x85e2cad1d4928702)); /* 3 words and a tail */
    rc_decref(empty_str);
    rc_decref(long_str);
    void *c = rc_str_from("hellO");
    CHECK(!rc_equal(a, c));
    CHECK(rc_str_hash(a) != rc_str_hash(c));
    void *z = rc_str_new("a\0b", 3);
    CHECK_EQ(rc_str_len(z), 3);
    CHECK(memcmp(rc_str_data(z), "a\0b", 4) == 0);
    void *bytes = rc_bytes_new("hello", 5);
    CHECK(!rc_equal(a, bytes)); /* b"hello" != "hello" */
    CHECK_EQ(rc_hash(bytes), rc_str_hash(a));
    CHECK(rc_gc_is_tracked(a) == false);
    CHECK(rc_str_new(NULL, 2) == NULL);
    void *empty = rc_str_new(NULL, 0);
    CHECK(empty && rc_str_len(empty) == 0 && rc_str_data(empty)[0] == '\0');
    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
    rc_decref(z);
    rc_decref(bytes);
    rc_decref(empty);
}

static void test_intern(void)
{
    void *a = rc_str_interned("abc"), *b = rc_str_interned("abc");
    CHECK(a == b);
    CHECK(rc_is_immortal(a));
    CHECK(rc_str_is_interned(a));
    void *s = rc_str_from("abc");
    CHECK(s != a && !rc_str_is_interned(s));
    CHECK(rc_str_intern(s) == a);
    CHECK_EQ(rc_refcount(s), 1); /* s itself is left alone */
    rc_decref(s);
    void *fresh = rc_str_from("not yet interned");
    CHECK(rc_str_intern(fresh) == fresh); /* the first becomes the interned one */
    CHECK(rc_is_immortal(fresh));
    CHECK(rc_str_interned("not yet interned") == fresh);
    /* grow the table well past its first size, then find every one again */
    char text[32];
    void *first[1000];
    for (int i = 0; i < 1000; i++) {
        snprintf(text, sizeof text, "name%d", i);
        first[i] = rc_str_interned(text);
    }
    int same = 0;
    for (int i = 0; i < 1000; i++) {
        snprintf(text, sizeof text, "name%d", i);
        RC_AUTO void *t = rc_str_from(text);
        same += rc_str_intern(t) == first[i] && rc_str_interned(text) == first[i];
    }
    CHECK_EQ(same, 1000);
    CHECK(rc_str_interned("abc") == a);
}

static void test_concat_join(void)
{
    RC_AUTO void *a = rc_str_from("foo");
    RC_AUTO void *b = rc_str_from("bar");
    RC_AUTO void *ab = rc_str_concat(a, b);
    CHECK(strcmp(rc_str_data(ab), "foobar") == 0);
    CHECK_EQ(rc_str_len(ab), 6);
    RC_AUTO void *sep = rc_str_from(", ");
    RC_AUTO void *list = rc_list_new();
    RC_AUTO void *empty = rc_str_join(sep, list);
    CHECK(empty && rc_str_len(empty) == 0);
    rc_list_append(list, a);
    RC_AUTO void *one = rc_str_join(sep, list);
    CHECK(strcmp(rc_str_data(one), "foo") == 0);
    rc_list_append(list, b);
    rc_list_append(list, ab);
    RC_AUTO void *joined = rc_str_join(sep, list);
    CHECK(strcmp(rc_str_data(joined), "foo, bar, foobar") == 0);
    CHECK_EQ(rc_str_len(joined), 16);
    RC_AUTO void *tuple = rc_tuple_pack(2, b, a);
    RC_AUTO void *nosep = rc_str_from("");
    RC_AUTO void *joined2 = rc_str_join(nosep, tuple);
    CHECK(strcmp(rc_str_data(joined2), "barfoo") == 0);
    rc_list_append(list, rc_int_new(5));
    CHECK(rc_str_join(sep, list) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_str_join: item 3 is an int, not a str");
    CHECK(rc_str_concat(a, list) == NULL);
    CHECK_EQ(rc_refcount(a), 3); /* ours, the list's, the tuple's: failures took none */
}

static bool died;
static void note_death(rc_weakref *ref, void *arg)
{
    (void)ref, (void)arg;
    died = true;
}

static void test_bytes_view(void)
{
    void *b = rc_bytes_new("hello world", 11);
    const char *base_data = rc_bytes_data(b);
    CHECK_EQ(rc_bytes_len(b), 11);
    rc_weakref *watch = rc_weakref_new(b, note_death, NULL);
    died = false;
    void *v = rc_view_slice(b, 6, 11);
    CHECK(rc_view_data(v) == base_data + 6); /* zero copy */
    CHECK_EQ(rc_view_len(v), 5);
    CHECK(rc_view_base(v) == b);
    CHECK_EQ(rc_refcount(b), 2);
    rc_decref(b); /* the view keeps the base alive */
    CHECK(!died);
    CHECK(memcmp(rc_view_data(v), "world", 5) == 0);
    void *w = rc_view_slice(v, 1, 3); /* a slice of a slice: same base */
    CHECK(rc_view_data(w) == base_data + 7);
    CHECK(rc_view_base(w) == rc_view_base(v));
    CHECK_EQ(rc_refcount(rc_view_base(v)), 2);
    CHECK(memcmp(rc_view_data(w), "or", 2) == 0);
    void *whole = rc_view_new(v);
    CHECK(rc_view_data(whole) == rc_view_data(v) && rc_view_len(whole) == 5);
    void *copy = rc_view_tobytes(w);
    CHECK(rc_bytes_len(copy) == 2 && rc_bytes_data(copy) != rc_view_data(w));
    CHECK(rc_view_slice(v, 2, 6) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "not within a length of 5");
    CHECK(rc_view_slice(v, 3, 2) == NULL);
    void *empty = rc_view_slice(v, 5, 5);
    CHECK(empty && rc_view_len(empty) == 0);
    rc_decref(empty);
    rc_decref(v);
    rc_decref(whole);
    CHECK(!died);
    rc_decref(w);
    CHECK(died); /* the last view gone, the base dies */
    rc_decref(copy);
    rc_decref(watch);
}

int main(void)
{
    test_small_ints();
    test_large_ints();
    test_type_errors();
    test_str_basics();
    test_intern();
    test_concat_join();
    test_bytes_view();
    return check_report();
}
