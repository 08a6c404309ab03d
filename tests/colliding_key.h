/* colliding_key.h: a key type for the hash table tests. Every Key hashes
 * alike (all collide) and Keys are equal when their ids are. The equal
 * hook counts its calls in key_equal_calls and first runs key_equal_hook
 * if it is set: a test's way to change a table in the middle of a lookup
 * (reset it to NULL when done). */
#ifndef RC_TEST_COLLIDING_KEY_H
#define RC_TEST_COLLIDING_KEY_H

#include <reclaim.h>

typedef struct Key {
    long id;
} Key;

static size_t key_equal_calls;
static void (*key_equal_hook)(void);

static uint64_t key_hash(const void *self)
{
    (void)self;
    return 42;
}

static bool key_equal(const void *self, const void *other)
{
    key_equal_calls++;
    if (key_equal_hook)
        key_equal_hook();
    return ((const Key *)self)->id == ((const Key *)other)->id;
}

static const rc_type key_type = {
    .name = "Key", .size = sizeof(Key), .hash = key_hash, .equal = key_equal};

static inline Key *key_new(long id)
{
    Key *k = rc_new(&key_type);
    k->id = id;
    return k;
}

#endif
