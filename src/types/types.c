/* types.c: the built-in types' per-heap state, type checks, and the
 * generic hash and equality.
 *
 * State (types_state.h) is made lazily by the types that use it; init
 * zeroes it and sets the object layer's recycle hook (the tuple free
 * lists). At heap teardown every object, immortal ones included, has had
 * its destroy hook run before rc_types_fini, and the allocator frees the
 * blocks after it: fini gives back the intern table's bookkeeping memory
 * and the free lists' blocks.
 */
#include "types_internal.h"
#include "../alloc/alloc.h"

#include <stdio.h>
#include <string.h>

int rc_types_init(rc_heap *heap)
{
    memset(&heap->types, 0, sizeof heap->types);
    heap->hooks.recycle = rc_tuple_recycle;
    heap->hooks.clear_free_lists = rc_tuple_free_lists_clear;
    return 0;
}

void rc_types_fini(rc_heap *heap)
{
    rc_tuple_free_lists_clear(heap);
    rc_sys_free(heap, heap->types.interned.slots);
    memset(&heap->types, 0, sizeof heap->types);
}

/* The article for a type name: "a list", "an int". */
static const char *article(const char *name)
{
    return name[0] && strchr("aeiou", name[0]) ? "an" : "a";
}

const char *rc_types_name(const void *obj, char *buf)
{
    if (!obj)
        return "NULL";
    const rc_type *type = rc_type_of(obj);
    const char *name = type && type->name && type->name[0] ? type->name : "?";
    snprintf(buf, RC_TYPES_NAME_SIZE, "%s %s", article(name), name);
    return buf;
}

bool rc_types_check_slow(const void *obj, const rc_type *type, const char *fn)
{
    char got[RC_TYPES_NAME_SIZE];
    rc_set_error(RC_EINVAL, "%s: expected %s %s, got %s", fn, article(type->name), type->name,
                 rc_types_name(obj, got));
    return false;
}

int rc_types_prefix_error(int code, const char *fn)
{
    size_t n = strlen(fn);
    const char *last = rc_last_error();
    if (strncmp(last, fn, n) == 0 && last[n] == ':')
        return code;
    return rc_set_error(code, "%s: %s", fn, last);
}

void *rc_types_finish(void *obj, int status, const char *fn)
{
    if (status == 0)
        return obj;
    rc_decref(obj);
    rc_types_prefix_error(status, fn);
    return NULL;
}

/* ---- SipHash-1-3 (CPython's default string hash since 3.11) ---------- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = ROTL(v[1], 13);
    v[1] ^= v[0];
    v[0] = ROTL(v[0], 32);
    v[2] += v[3];
    v[3] = ROTL(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = ROTL(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = ROTL(v[1], 17);
    v[1] ^= v[2];
    v[2] = ROTL(v[2], 32);
}

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = x << 8 | p[i];
    return x;
}

/* A fixed key: hashes are the same in every run and every heap. */
#define SIP_K0 UINT64_C(0x0706050403020100)
#define SIP_K1 UINT64_C(0x0f0e0d0c0b0a0908)

uint64_t rc_types_hash_bytes(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t v[4] = {SIP_K0 ^ UINT64_C(0x736f6d6570736575), SIP_K1 ^ UINT64_C(0x646f72616e646f6d),
                     SIP_K0 ^ UINT64_C(0x6c7967656e657261), SIP_K1 ^ UINT64_C(0x7465646279746573)};
    size_t whole = n & ~(size_t)7;
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m = load_le64(p + i);
        v[3] ^= m;
        sip_round(v);
        v[0] ^= m;
    }
    uint64_t last = (uint64_t)n << 56;
    for (size_t i = 0; i < (n & 7); i++)
        last |= (uint64_t)p[whole + i] << (8 * i);
    v[3] ^= last;
    sip_round(v);
    v[0] ^= last;
    v[2] ^= 0xff;
    for (int i = 0; i < 3; i++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ---- generic hash and equality ----------------------------------------- */

uint64_t rc_hash(const void *obj)
{
    if (!obj)
        return 0;
    const rc_type *type = rc_type_of(obj);
    if (type->hash)
        return type->hash(obj);
    /* CPython's _Py_HashPointer: the low 4 bits of an address are 0 */
    uintptr_t y = (uintptr_t)obj;
    return (uint64_t)((y >> 4) | (y << (8 * sizeof y - 4)));
}

bool rc_equal(const void *a, const void *b)
{
    if (a == b)
        return true;
    if (!a || !b)
        return false;
    const rc_type *type = rc_type_of(a);
    return type == rc_type_of(b) && type->equal && type->equal(a, b);
}

bool rc_types_match_equal(const void *entry_key, const void *key)
{
    return rc_equal(entry_key, key);
}

bool rc_types_items(const void *seq, void *const **items, size_t *len, const char *fn)
{
    const rc_type *type = rc_type_of(seq);
    if (seq && type == &rc_list_type) {
        const rc_list_body *list = seq;
        *items = list->items;
        *len = list->len;
        return true;
    }
    if (seq && type == &rc_tuple_type) {
        const rc_tuple_body *tuple = seq;
        *items = tuple->items;
        *len = tuple->len;
        return true;
    }
    char got[RC_TYPES_NAME_SIZE];
    rc_set_error(RC_EINVAL, "%s: expected a list or tuple, got %s", fn, rc_types_name(seq, got));
    *items = NULL;
    *len = 0;
    return false;
}
