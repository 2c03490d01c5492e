/* Event-time state of one Kafka partition (docs/windows.md): the watermark, lateness
 * and the dedup set, shared by the processor and the archiver so both decide
 * "late" and "duplicate" identically.
 *
 * Semantics: window = [start, start + 1 h) with start = ts - floormod(ts, 1 h);
 * W = (max event time of the valid events processed so far) - 2 h, never
 * decreasing; an event is late when window_end <= W; a non-late event whose
 * (event_id, window) was already counted in this partition is a duplicate.
 * Dedup entries are dropped once their window is final for the partition
 * (window_end <= W), so the state is bounded by the watermark.
 *
 * Not thread safe: one owner (the thread consuming the partition). */
#ifndef GTP_WINDOW_H
#define GTP_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "gtp/uuidtext.h"

#define GTP_WINDOW_US          (3600LL * 1000000LL)
#define GTP_WATERMARK_DELAY_US (2LL * GTP_WINDOW_US)
/* Watermark of a partition that has seen no valid event yet. */
#define GTP_WATERMARK_NONE INT64_MIN

enum gtp_verdict {
    GTP_VERDICT_COUNT = 0,     /* counted: first time this (event_id, window) is seen, not late */
    GTP_VERDICT_LATE = 1,      /* window already closed for this partition */
    GTP_VERDICT_DUPLICATE = 2, /* same event_id already counted in this open window */
};

/* Start of the 1-hour window holding ts_us (floor, also for negative times). */
int64_t gtp_window_start(int64_t ts_us);

struct gtp_window;

/* New empty state (watermark GTP_WATERMARK_NONE). Free with gtp_window_free. */
struct gtp_window *gtp_window_new(void);
void gtp_window_free(struct gtp_window *w); /* NULL-safe */

/* Classify one valid event and update the state: a counted event enters the
 * dedup set and may advance the watermark. event_id is borrowed (copied when
 * kept); len bytes, need not be NUL-terminated. */
enum gtp_verdict gtp_window_classify(struct gtp_window *w, const char *event_id, size_t len,
                                     int64_t ts_us);

/* The same for an id whose uuid bytes were parsed already (gtp/uuidtext.h). */
enum gtp_verdict gtp_window_classify_id(struct gtp_window *w, const struct gtp_eventid *id,
                                        int64_t ts_us);

/* A hint before classifying an id packed as a uuid (id_bin: its 16 bytes): starts loading
 * the dedup slot its insert will probe first. Changes nothing; a window with no table yet
 * for ts_us is left alone. The sets are far larger than the caches, so each insert
 * otherwise waits for memory (the processor issues it a few events ahead). */
void gtp_window_prefetch_id(const struct gtp_window *w, const uint8_t *id_bin, int64_t ts_us);

/* Current watermark W (GTP_WATERMARK_NONE before the first event) and the
 * maximum event time seen (INT64_MIN before the first event). */
int64_t gtp_window_watermark(const struct gtp_window *w);
int64_t gtp_window_max_event(const struct gtp_window *w);

/* Restore from stored state: set the max event time (only moves forward)
 * and re-add a dedup entry (ignored when its window is already final). */
void gtp_window_restore_max(struct gtp_window *w, int64_t max_event_us);
void gtp_window_restore_id(struct gtp_window *w, int64_t window_start_us, const char *event_id,
                           size_t len);

/* Number of dedup entries held (for metrics and tests). */
size_t gtp_window_dedup_size(const struct gtp_window *w);

/* Bytes of the dedup tables' slots and of the ids held outside them (for tests and
 * benchmarks). */
size_t gtp_window_dedup_bytes(const struct gtp_window *w);

/* Call fn for every dedup entry held (windows still open), in no particular order:
 * the window start and the id (len bytes, valid for the call only; not
 * NUL-terminated). What gtp_window_restore_id needs to rebuild the set. */
typedef void (*gtp_window_id_fn)(int64_t window_start_us, const char *event_id, size_t len,
                                 void *ctx);
void gtp_window_foreach_id(const struct gtp_window *w, gtp_window_id_fn fn, void *ctx);

#endif
