/* A poll round's messages enriched on helper threads (see enrich.h). */
#include "enrich.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gtp/util.h"

/* Slots a thread claims at a time: a round of 256 splits evenly between a few threads
 * while the shared counter is touched only 16 times. */
#define CLAIM 16

static void keep(struct arch_enrich_slot *s, struct gtp_buf *arena, int f, const char *p,
                 size_t len)
{
    if (!p) {
        s->off[f] = SIZE_MAX;
        s->len[f] = 0;
        return;
    }
    s->off[f] = arena->len;
    s->len[f] = len;
    gtp_buf_put(arena, p, len);
    gtp_buf_putc(arena, '\0'); /* the row's writer also takes them as C strings */
}

static void process_one(struct arch_enrich *en, struct arch_enrich_slot *s, unsigned worker)
{
    struct gtp_event *ev = &en->ev[worker];
    struct gtp_buf *arena = &en->arena[worker];
    rd_kafka_timestamp_type_t tstype;
    int64_t ref_ms = rd_kafka_message_timestamp(s->rkm, &tstype);
    if (ref_ms < 0)
        ref_ms = gtp_wall_us() / 1000;
    s->reject = gtp_event_process(ev, en->tx, s->rkm->payload, s->rkm->len, ref_ms * 1000);
    s->arena = worker;
    for (int f = 0; f < ARCH_F_COUNT; f++)
        s->off[f] = SIZE_MAX, s->len[f] = 0;
    if (s->reject != GTP_REJECT_NONE) {
        keep(s, arena, ARCH_F_DETAIL, ev->detail, strlen(ev->detail));
        return;
    }
    keep(s, arena, ARCH_F_EVENT_ID, ev->event_id.s, ev->event_id.len);
    keep(s, arena, ARCH_F_TITLE, ev->title.s, ev->title.len);
    keep(s, arena, ARCH_F_COMPANY, ev->company.s, ev->company.len);
    keep(s, arena, ARCH_F_JOB_ID, ev->job_id.s, ev->job_id.len);
    keep(s, arena, ARCH_F_SOURCE, ev->source.s, ev->source.len);
    keep(s, arena, ARCH_F_LOCATION, ev->location.s, ev->location.len);
    s->posted_us = ev->posted_us;
    s->is_remote = ev->is_remote;
    s->level = ev->level;
    memcpy(s->region, ev->region, sizeof(s->region));
    s->skills = ev->skills;
}

static void process_item(void *arg, size_t i, unsigned worker)
{
    struct arch_enrich *en = arg;
    process_one(en, &en->slot[i], worker);
}

void arch_enrich_init(struct arch_enrich *en, struct gtp_pool *pool)
{
    en->pool = pool;
    for (int k = 0; k <= GTP_POOL_MAX_HELPERS; k++)
        gtp_event_init(&en->ev[k]);
}

void arch_enrich_fini(struct arch_enrich *en)
{
    arch_enrich_clear(en);
    for (int k = 0; k <= GTP_POOL_MAX_HELPERS; k++) {
        gtp_event_fini(&en->ev[k]);
        gtp_buf_fini(&en->arena[k]);
    }
}

void arch_enrich_add(struct arch_enrich *en, rd_kafka_message_t *rkm, uint64_t seeks)
{
    en->slot[en->n].seeks = seeks;
    en->slot[en->n++].rkm = rkm;
}

void arch_enrich_run(struct arch_enrich *en, const struct gtp_taxonomy *tx)
{
    en->tx = tx;
    gtp_pool_run(en->pool, en->n, CLAIM, process_item, en);
}

void arch_enrich_start(struct arch_enrich *en, const struct gtp_taxonomy *tx)
{
    en->tx = tx;
    if (en->pool)
        gtp_pool_start(en->pool, en->n, CLAIM, process_item, en);
}

void arch_enrich_wait(struct arch_enrich *en)
{
    if (en->pool)
        gtp_pool_wait(en->pool);
    else
        gtp_pool_run(NULL, en->n, CLAIM, process_item, en);
}

static struct gtp_str str_of(const struct arch_enrich *en, const struct arch_enrich_slot *s, int f)
{
    if (s->off[f] == SIZE_MAX)
        return (struct gtp_str){NULL, 0};
    return (struct gtp_str){en->arena[s->arena].p + s->off[f], s->len[f]};
}

void arch_enrich_view(const struct arch_enrich *en, size_t i, struct gtp_event *ev)
{
    const struct arch_enrich_slot *s = &en->slot[i];
    struct gtp_str detail = str_of(en, s, ARCH_F_DETAIL);
    memset(ev, 0, sizeof(*ev));
    ev->reject = s->reject;
    if (detail.s)
        snprintf(ev->detail, sizeof(ev->detail), "%s", detail.s);
    if (s->reject != GTP_REJECT_NONE)
        return;
    ev->event_id = str_of(en, s, ARCH_F_EVENT_ID);
    ev->title = str_of(en, s, ARCH_F_TITLE);
    ev->company = str_of(en, s, ARCH_F_COMPANY);
    ev->job_id = str_of(en, s, ARCH_F_JOB_ID);
    ev->source = str_of(en, s, ARCH_F_SOURCE);
    ev->location = str_of(en, s, ARCH_F_LOCATION);
    ev->posted_us = s->posted_us;
    ev->is_remote = s->is_remote;
    ev->level = s->level;
    memcpy(ev->region, s->region, sizeof(ev->region));
    ev->skills = s->skills;
}

void arch_enrich_clear(struct arch_enrich *en)
{
    for (size_t i = 0; i < en->n; i++)
        rd_kafka_message_destroy(en->slot[i].rkm);
    en->n = 0;
    for (int k = 0; k <= GTP_POOL_MAX_HELPERS; k++)
        gtp_buf_reset(&en->arena[k]);
}
