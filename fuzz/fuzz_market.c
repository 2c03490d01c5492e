/* Fuzz target: gtp-generator's market.tsv loader (src/generator/market.c) on
 * arbitrary bytes. A file is refused with market.tsv in the reason, or loads
 * into a model whose invariants hold: country shares sum to 1, the intensity
 * is finite, a skill's weight never exceeds the maximum the model thins from,
 * and --print-model and a few postings can be made from it. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "market.h"
#include "model.h"

int gtp_fuzz_market(const uint8_t *data, size_t size)
{
    char path[4096], err[512];
    snprintf(path, sizeof(path), "%s/market.tsv", gtp_fuzz_tmpdir());
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL, "cannot write %s", path);
    if (size)
        FUZZ_CHECK(fwrite(data, 1, size, f) == size, "short write");
    fclose(f);

    err[0] = '\0';
    struct market *mk = market_load(gtp_fuzz_tmpdir(), err, sizeof(err));
    if (!mk) {
        FUZZ_CHECK(strstr(err, "market.tsv") != NULL, "refused without naming the file: %s", err);
        return 0;
    }
    double share = 0;
    for (size_t c = 0; c < mk->ncountries; c++) {
        FUZZ_CHECK(mk->country[c].share >= 0, "negative share of %s", mk->country[c].code);
        share += mk->country[c].share;
    }
    FUZZ_CHECK(fabs(share - 1) < 1e-6, "country shares sum to %g", share);
    const int64_t start = INT64_C(1710720000000000), day = MARKET_DAY_US;
    for (int64_t t = start - day; t < start + 20 * day; t += 7 * MARKET_HOUR_US) {
        double in = market_intensity(mk, t);
        FUZZ_CHECK(isfinite(in) && in >= 0, "intensity %g", in);
        for (size_t s = 0; s < mk->nskills; s += 7)
            for (size_t c = 0; c < mk->ncountries; c += 5) {
                double w = market_weight(mk, 3, start, (int)s, c, t);
                FUZZ_CHECK(isfinite(w) && w >= 0 && w <= mk->weight_max[s] * (1 + 1e-9),
                           "weight %g of skill %zu above its maximum %g", w, s, mk->weight_max[s]);
            }
    }
    FILE *null = fopen("/dev/null", "w");
    FUZZ_CHECK(null != NULL, "/dev/null");
    FUZZ_CHECK(market_print(mk, null, 3, start, start + 3 * day) == 0, "print failed");
    fclose(null);
    struct model *m = model_new(mk, 3, start);
    struct posting p;
    struct rng r;
    posting_init(&p);
    rng_seed(&r, size);
    for (int i = 0; i < 20; i++) {
        model_make(m, &r, start + i * 2000 * INT64_C(1000000), &p);
        FUZZ_CHECK(p.nskills <= MODEL_MAX_SKILLS && p.company && *p.company, "posting %d", i);
    }
    posting_fini(&p);
    model_free(m);
    market_free(mk);
    return 0;
}
