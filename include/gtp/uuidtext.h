/* Event ids in canonical uuid text form (lowercase 8-4-4-4-12 hex, nearly
 * every event's) packed into their 16 bytes and back. Only that one form is
 * packed, so the bytes map back to exactly the text they came from; any other
 * id (upper case, braces, another length) stays text wherever it is kept. */
#ifndef GTP_UUIDTEXT_H
#define GTP_UUIDTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GTP_UUIDTEXT_LEN 36

/* Whether s[0..len) is a canonical lowercase uuid; if so its bytes go to out. */
bool gtp_uuidtext_pack(const char *s, size_t len, uint8_t out[16]);

/* An event id as the windows and the id lists take it: its text (borrowed) and, when it is a
 * canonical uuid, its bytes, parsed once (gtp_eventid_init, or on a helper thread). */
struct gtp_eventid {
    const char *text;
    size_t len;
    bool packed; /* bin holds the uuid's bytes */
    uint8_t bin[16];
};

static inline void gtp_eventid_init(struct gtp_eventid *id, const char *text, size_t len)
{
    id->text = text;
    id->len = len;
    id->packed = gtp_uuidtext_pack(text, len, id->bin);
}

/* The 36 characters of the canonical text of the 16 bytes in (not NUL-terminated). */
void gtp_uuidtext_unpack(const uint8_t in[16], char out[GTP_UUIDTEXT_LEN]);

#endif
