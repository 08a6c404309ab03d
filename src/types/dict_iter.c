/* dict_iter.c: iterating over a dict, and its keys, values and items as
 * new lists.
 *
 * An rc_iter remembers the dict's version and length when it was made; a
 * step after the dict changed fails with CPython's message instead of
 * reading a table that may have moved. The list makers iterate the same
 * way, holding each key and value while they allocate (an allocation may
 * run a collection, and so user code that changes the dict).
 */
#include "dict_table.h"

rc_iter rc_dict_iter(const void *d)
{
    if (!rc_types_check(d, &rc_dict_type, "rc_dict_iter"))
        return (rc_iter){.container = NULL};
    return rc_dict_table_iter(d, d);
}

int rc_dict_next(rc_iter *it, void **key, void **value)
{
    if (!it)
        return rc_set_error(RC_EINVAL, "rc_dict_next: it is NULL");
    if (!rc_types_check(it->container, &rc_dict_type, "rc_dict_next"))
        return RC_EINVAL;
    return rc_dict_table_iter_next(it, it->container, key, value);
}

enum view { KEYS, VALUES, ITEMS };

/* Appends what the view shows of (key, value), both held meanwhile. */
static int append_view(void *list, enum view view, void *key, void *value)
{
    rc_incref(key);
    rc_incref(value);
    int status;
    if (view == ITEMS) {
        void *item = rc_tuple_pack(2, key, value);
        status = item ? rc_list_append(list, item) : RC_ENOMEM;
        rc_decref(item);
    } else {
        status = rc_list_append(list, view == KEYS ? key : value);
    }
    rc_decref(key);
    rc_decref(value);
    return status;
}

static void *dict_view_list(const void *d, enum view view, const char *fn)
{
    if (!rc_types_check(d, &rc_dict_type, fn))
        return NULL;
    void *list = rc_list_new();
    if (!list)
        return NULL;
    rc_iter it = rc_dict_table_iter(d, d);
    void *key, *value;
    int status;
    while ((status = rc_dict_table_iter_next(&it, d, &key, &value)) > 0) {
        status = append_view(list, view, key, value);
        if (status)
            break;
    }
    return rc_types_finish(list, status, fn);
}

void *rc_dict_keys(const void *d) { return dict_view_list(d, KEYS, "rc_dict_keys"); }
void *rc_dict_values(const void *d) { return dict_view_list(d, VALUES, "rc_dict_values"); }
void *rc_dict_items(const void *d) { return dict_view_list(d, ITEMS, "rc_dict_items"); }
