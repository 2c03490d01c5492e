/* The pending-delta tables' open addressing (see ctable.h). */
#include "ctable.h"

#include <stdlib.h>
#include <string.h>

#include "gtp/util.h"

static int64_t count_of(const unsigned char *e)
{
    int64_t c;
    memcpy(&c, e + CTABLE_KEY, sizeof(c));
    return c;
}

void *ctable_rehash(void *v, size_t cap, size_t ncap)
{
    unsigned char *t = gtp_xcalloc(ncap, CTABLE_ENTRY), *old = v;
    for (size_t i = 0; i < cap; i++) {
        const unsigned char *e = old + i * CTABLE_ENTRY;
        if (count_of(e))
            memcpy(ctable_find(t, ncap, ctable_index(e, ncap), e), e, CTABLE_ENTRY);
    }
    free(v);
    return t;
}
