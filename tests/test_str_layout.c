/* test_str_layout.c: str and bytes keep their text inline after a 20-byte
 * body (no data pointer), as CPython's compact strings do. rc_sizeof is
 * exact: 16 + 20 + len + 1 (a 10-character str is 47 bytes, CPython's 59),
 * plus 8 for a str that owns a strbuilder's buffer; the blocks really are
 * that small; and everything that reads a str's bytes works the same on
 * inline and owned strs: data, length, hash, equality, interning, concat,
 * join, the string builder, views over bytes.
 */
#include "check.h"

#include "alloc/pool.h"
#include "types/types_internal.h"

#include <reclaim.h>

#define HEADER   16
#define STR_BODY 20

static rc_alloc_stats stats(void)
{
    rc_alloc_stats s = {.struct_size = sizeof s};
    CHECK_EQ(rc_heap_stats(NULL, &s), 0);
    return s;
}

/* A str that owns its buffer: a strbuilder's result of n bytes of c (256
 * bytes or more are handed over, not copied). */
static void *owned_str(size_t n, char c)
{
    void *sb = rc_strbuilder_new();
    char piece[64];
    memset(piece, c, sizeof piece);
    for (size_t done = 0; done < n; done += 64)
        CHECK_EQ(rc_strbuilder_append(sb, piece, n - done < 64 ? n - done : 64), 0);
    void *s = rc_strbuilder_build(sb);
    rc_decref(sb);
    CHECK(s != NULL);
    CHECK(((rc_str_body *)s)->flags & RC_STR_OWNED);
    return s;
}

static void test_sizes(void)
{
    CHECK_EQ(rc_str_type.size, STR_BODY);
    CHECK_EQ(rc_bytes_type.size, STR_BODY);
    static const size_t lens[] = {0, 1, 10, 11, 27, 28, 100, 475, 476, 1000, 5000};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t n = lens[i];
        char *text = malloc(n + 1);
        memset(text, 'x', n);
        void *s = rc_str_new(text, n), *b = rc_bytes_new(text, n);
        CHECK_EQ(rc_sizeof(s), HEADER + STR_BODY + n + 1);
        CHECK_EQ(rc_sizeof(b), HEADER + STR_BODY + n + 1);
        /* the text right after the body head, in the object's own block */
        CHECK(rc_str_data(s) == (const char *)s + STR_BODY);
        CHECK(rc_bytes_data(b) == (const char *)b + STR_BODY);
        rc_decref(s);
        rc_decref(b);
        free(text);
    }
    void *ten = rc_str_from("abcdefghij");
    CHECK_EQ(rc_sizeof(ten), 47); /* CPython's sys.getsizeof: 59 */
    rc_decref(ten);
    void *owned = owned_str(300, 'o');
    CHECK_EQ(rc_sizeof(owned), HEADER + STR_BODY + 8 + 300 + 1);
    CHECK(rc_str_data(owned) != (const char *)owned + STR_BODY);
    CHECK_EQ(rc_total_sizeof(owned), rc_sizeof(owned));
    rc_decref(owned);
}

/* 1,000 strs of 10 characters take 48-byte blocks (47 bytes asked): with
 * a data pointer they took 64. */
static void test_blocks(void)
{
    size_t cls = rc_class_of(HEADER + STR_BODY + 11);
    CHECK_EQ(rc_class_size[cls], 48);
    size_t before = stats().classes[cls].blocks_used;
    static void *strs[1000];
    for (size_t i = 0; i < 1000; i++) {
        char text[16];
        snprintf(text, sizeof text, "s%09zu", i);
        strs[i] = rc_str_from(text);
    }
    CHECK_EQ(stats().classes[cls].blocks_used, before + 1000);
    size_t bad = 0;
    for (size_t i = 0; i < 1000; i++) {
        char text[16];
        snprintf(text, sizeof text, "s%09zu", i);
        bad += strcmp(rc_str_data(strs[i]), text) != 0 || rc_str_len(strs[i]) != 10;
        rc_decref(strs[i]);
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(stats().classes[cls].blocks_used, before);
}

static void test_text(void)
{
    void *empty = rc_str_new(NULL, 0);
    CHECK_EQ(rc_str_len(empty), 0);
    CHECK(rc_str_data(empty)[0] == '\0');
    void *nul = rc_str_new("a\0b", 3);
    CHECK_EQ(rc_str_len(nul), 3);
    CHECK(memcmp(rc_str_data(nul), "a\0b\0", 4) == 0);
    void *abc = rc_str_from("abc");
    CHECK(!rc_str_equal(nul, abc));
    /* CPython 3.11 hashes with a random key: reclaim's key is fixed, so the
     * value is its own; equal text, equal hash, cached */
    uint64_t h = rc_str_hash(abc);
    void *abc2 = rc_str_new("abcd", 3);
    CHECK_EQ(rc_str_hash(abc2), h);
    CHECK(rc_equal(abc, abc2));
    CHECK_EQ(rc_hash(abc), rc_types_hash_bytes("abc", 3));
    void *cat = rc_str_concat(abc, nul);
    CHECK_EQ(rc_str_len(cat), 6);
    CHECK(memcmp(rc_str_data(cat), "abca\0b", 7) == 0);
    rc_decref(empty);
    rc_decref(nul);
    rc_decref(abc);
    rc_decref(abc2);
    rc_decref(cat);
}

/* An owned str and an inline one of the same text are the same value. */
static void test_owned_and_inline(void)
{
    void *owned = owned_str(1000, 'q');
    char text[1001];
    memset(text, 'q', 1000);
    text[1000] = '\0';
    void *inl = rc_str_from(text);
    CHECK(!(((rc_str_body *)inl)->flags & RC_STR_OWNED));
    CHECK_EQ(rc_str_len(owned), 1000);
    CHECK(strcmp(rc_str_data(owned), text) == 0);
    CHECK(rc_str_equal(owned, inl) && rc_str_equal(inl, owned));
    CHECK_EQ(rc_hash(owned), rc_hash(inl));
    /* as dict keys they are one key */
    void *d = rc_dict_new();
    void *one = rc_int_new(1);
    CHECK_EQ(rc_dict_set(d, owned, one), 0);
    CHECK(rc_dict_get(d, inl) == one);
    rc_decref(d);
    /* concat and join read both kinds */
    void *sep = rc_str_from("-");
    void *list = rc_list_new();
    rc_list_append(list, owned);
    rc_list_append(list, inl);
    void *joined = rc_str_join(sep, list);
    CHECK_EQ(rc_str_len(joined), 2001);
    CHECK(rc_str_data(joined)[1000] == '-' && rc_str_data(joined)[2000] == 'q');
    void *cat = rc_str_concat(owned, sep);
    CHECK_EQ(rc_str_len(cat), 1001);
    CHECK(rc_str_data(cat)[999] == 'q' && rc_str_data(cat)[1000] == '-');
    /* a builder appends an owned str's text */
    void *sb = rc_strbuilder_new();
    CHECK_EQ(rc_strbuilder_append_str(sb, owned), 0);
    CHECK_EQ(rc_strbuilder_append_str(sb, sep), 0);
    void *built = rc_strbuilder_build(sb);
    CHECK_EQ(rc_str_len(built), 1001);
    CHECK(rc_str_equal(built, cat));
    /* interning an owned str keeps it, and the text finds it */
    void *interned = rc_str_intern(owned);
    CHECK(interned == owned && rc_str_is_interned(owned));
    void *found = rc_str_interned(text);
    CHECK(found == owned);
    CHECK(rc_str_intern(inl) == owned); /* the equal inline one finds it too */
    rc_decref(sb);
    rc_decref(built);
    rc_decref(cat);
    rc_decref(joined);
    rc_decref(list);
    rc_decref(sep);
    rc_decref(inl);
}

static void test_interned_inline(void)
{
    void *a = rc_str_interned("name");
    void *b = rc_str_from("name");
    CHECK(rc_str_intern(b) == a);
    CHECK(rc_str_data(a) == (const char *)a + STR_BODY);
    CHECK_EQ(rc_sizeof(a), HEADER + STR_BODY + 5);
    rc_decref(b);
}

static void test_views(void)
{
    void *b = rc_bytes_new("0123456789", 10);
    void *v = rc_view_slice(b, 3, 7);
    CHECK(rc_view_data(v) == rc_bytes_data(b) + 3);
    CHECK(memcmp(rc_view_data(v), "3456", 4) == 0);
    void *w = rc_view_slice(v, 1, 3);
    CHECK(rc_view_data(w) == rc_bytes_data(b) + 4);
    void *copy = rc_view_tobytes(w);
    CHECK_EQ(rc_bytes_len(copy), 2);
    CHECK(memcmp(rc_bytes_data(copy), "45", 3) == 0);
    CHECK_EQ(rc_sizeof(copy), HEADER + STR_BODY + 3);
    rc_decref(b); /* the views hold it */
    CHECK(memcmp(rc_view_data(v), "3456", 4) == 0);
    rc_decref(copy);
    rc_decref(w);
    rc_decref(v);
}

static void test_type_checks(void)
{
    void *b = rc_bytes_new("x", 1);
    CHECK(rc_str_data(b) == NULL);
    CHECK_STR_CONTAINS(rc_last_error(), "rc_str_data: expected a str, got a bytes");
    void *s = rc_str_from("x");
    CHECK(!rc_equal(s, b));
    CHECK_EQ(rc_hash(s), rc_hash(b)); /* hash(b"x") == hash("x") */
    CHECK(rc_bytes_data(s) == NULL);
    rc_decref(s);
    rc_decref(b);
}

int main(void)
{
    test_sizes();
    test_blocks();
    test_text();
    test_owned_and_inline();
    test_interned_inline();
    test_views();
    test_type_checks();
    return check_report();
}
