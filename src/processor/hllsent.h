/* Which employer-set elements (docs/redis.md "Insights keys": employers:{skill}:{day}, a
 * HyperLogLog) an applied flush has already given Redis, so later flushes leave them out.
 * PFADD of an element a set already holds changes no register, so leaving it out keeps
 * every value identical; the profile (bench/README.md "Insights cost") had the PFADD
 * section as Redis's largest single cost of the insights aggregates, with most elements
 * repeats of earlier flushes.
 *
 * An element is remembered as (skill, day, 64-bit hash of the name) with Redis's own HLL hash
 * (MurmurHash64A, seed 0xadc83b19): two names with the same hash set the same register of
 * the same set, so even a hash collision cannot make a left-out element change a value.
 * The table is direct-mapped and lossy only towards sending: an evicted element is sent
 * again, which is harmless. Entries are staged while a flush is built and remembered only
 * when that flush is applied; an unknown outcome, a fence or a reload forgets everything.
 * The whole table is forgotten every ttl/2 of wall time, so a remembered element's key
 * cannot have expired (each flush that names a key refreshes its TTL, and a key is only
 * left out of a flush when none of its postings came in).
 * Single-threaded (the processor's main thread); owned by struct flush. */
#ifndef GTP_PROCESSOR_HLLSENT_H
#define GTP_PROCESSOR_HLLSENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HLLSENT_BITS      16 /* 64k entries of 16 bytes: 1 MiB */
#define HLLSENT_MIN_TTL_S 60

struct hllsent_entry {
    uint64_t h;
    int32_t day; /* day number since the epoch + 1: 0 marks an empty slot */
    uint16_t skill;
    uint16_t pad;
};

struct hllsent {
    struct hllsent_entry *v; /* 1 << HLLSENT_BITS slots */
    struct hllsent_entry *staged;
    size_t nstaged, staged_cap;
    int64_t since_ms; /* wall time of the last forget */
    bool dirty;       /* something remembered since the last forget */
    bool off;         /* ttl too short to remember anything (hllsent_age) */
};

/* Redis's HyperLogLog hash of s[0..len) (MurmurHash64A, seed 0xadc83b19). */
uint64_t hllsent_hash(const void *s, size_t len);

void hllsent_init(struct hllsent *s);
void hllsent_fini(struct hllsent *s);
/* Does an applied flush already hold (skill, day, name hash h)? day_us: the day's start. */
bool hllsent_known(const struct hllsent *s, uint16_t skill, int64_t day_us, uint64_t h);
/* Note (skill, day, h) as sent by the flush being built. */
void hllsent_stage(struct hllsent *s, uint16_t skill, int64_t day_us, uint64_t h);
/* The flush with the staged entries was applied: remember them. */
void hllsent_commit(struct hllsent *s);
/* Forget the staged and remembered entries (outcome unknown, fenced, reloaded). */
void hllsent_forget(struct hllsent *s);
/* Forget everything when ttl_s / 2 of wall time has passed since the last forget (now_ms);
 * with ttl_s under HLLSENT_MIN_TTL_S remember nothing until a longer ttl is given. */
void hllsent_age(struct hllsent *s, int64_t now_ms, long long ttl_s);

#endif
