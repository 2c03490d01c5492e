# One image for every Global Talent Pulse program; the command chooses the daemon
# (docker-compose.yml runs gtp-generator, gtp-processor, gtp-archiver, gtp-dashboard).
#
#   docker build -t gtp:local .
#   docker run --rm gtp:local gtp-processor --help
#
# Stage 1 builds on Debian 12 with the -dev packages; stage 2 carries only the
# runtime libraries, the five binaries, taxonomy/ and the dashboard's assets.

FROM debian:bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config \
        librdkafka-dev libhiredis-dev libjansson-dev libpcre2-dev uuid-dev \
        libmicrohttpd-dev libzstd-dev libsnappy-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the programs need: tests/, bench/ and fuzz/ stay out of the image
# (CMakeLists.txt globs them and builds nothing when they are absent).
COPY CMakeLists.txt ./
COPY include/ include/
COPY src/ src/
COPY taxonomy/ taxonomy/
COPY dashboard/ dashboard/
# RelWithDebInfo (-O2) is the build type the tests run; the binaries are stripped on install.
# The compiled-in defaults point at the installed copies, so a bare
# `gtp-processor` finds its taxonomy; the ENV below says the same explicitly.
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_INSTALL_PREFIX=/usr/local \
        -DGTP_TAXONOMY_DIR=/usr/local/share/gtp/taxonomy \
        -DGTP_DASHBOARD_DIR=/usr/local/share/gtp/dashboard \
    && cmake --build build -j"$(nproc)" \
        --target gtp-generator gtp-processor gtp-archiver gtp-dashboard gtp-enrich \
    && cmake --install build --strip \
    && for p in generator processor archiver dashboard enrich; do \
        /usr/local/bin/gtp-$p --version >/dev/null || exit 1; done

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        librdkafka1 libhiredis0.14 libmicrohttpd12 libjansson4 libpcre2-8-0 libuuid1 \
        libzstd1 libsnappy1v5 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/gtp-generator /usr/local/bin/gtp-processor \
    /usr/local/bin/gtp-archiver /usr/local/bin/gtp-dashboard /usr/local/bin/gtp-enrich \
    /usr/local/bin/
COPY --from=build /usr/local/share/gtp/ /usr/local/share/gtp/
ENV GTP_TAXONOMY=/usr/local/share/gtp/taxonomy \
    GTP_DASHBOARD_ASSETS=/usr/local/share/gtp/dashboard \
    GTP_ARCHIVE_DIR=/data/silver_job_postings
# An unprivileged user owns the archive; a fresh named volume mounted on
# /data/silver_job_postings takes this directory's owner.
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home gtp \
    && mkdir -p /data/silver_job_postings \
    && chown -R gtp:gtp /data \
    && for p in generator processor archiver dashboard enrich; do \
        gtp-$p --version >/dev/null || exit 1; done
USER gtp
WORKDIR /data
# dashboard, then the /metrics + /healthz ports of generator, processor, archiver
EXPOSE 8501 9101 9102 9103
CMD ["gtp-dashboard", "--help"]
