# syntax=docker/dockerfile:1
#
# jingfang (精防) image: jingfang-api, jingfang-worker, jingfang-migrate and
# the SQL migrations. Built in two stages so that the runtime image carries
# neither a compiler nor headers.
#
#   docker build -t jingfang-api:local .

############################################################ build
FROM debian:12 AS build

ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        build-essential \
        cmake \
        pkg-config \
        libcivetweb-dev \
        libpq-dev \
        libjansson-dev \
        libjwt-dev \
        libssl-dev \
        libcurl4-openssl-dev \
        libyaml-dev \
        libcmocka-dev \
        libxlsxwriter-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build build -j

############################################################ runtime
FROM debian:12-slim AS runtime

ARG DEBIAN_FRONTEND=noninteractive
# Runtime libraries only. curl is here for the HEALTHCHECK below; it reuses
# libcurl4, which the API needs anyway.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        libcivetweb1 \
        libpq5 \
        libjansson4 \
        libjwt0 \
        libssl3 \
        libcurl4 \
        libxlsxwriter4 \
        ca-certificates \
        curl \
 && rm -rf /var/lib/apt/lists/*

# An unprivileged user with no login shell and no home to write to.
RUN groupadd --system jingfang \
 && useradd --system --gid jingfang --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin jingfang

COPY --from=build /src/build/api/jingfang-api /src/build/api/jingfang-worker \
                  /src/build/api/jingfang-migrate /usr/local/bin/
COPY --from=build /src/db/ /opt/jingfang/db/

# Fail the image build, not the first start, when a shared library the
# binaries link against is missing from the list above.
RUN for bin in /usr/local/bin/jingfang-api /usr/local/bin/jingfang-worker \
               /usr/local/bin/jingfang-migrate; do \
        if ldd "$bin" | grep -F 'not found'; then \
            echo "missing shared library for $bin" >&2; exit 1; \
        fi; \
    done

WORKDIR /opt/jingfang
USER jingfang

ENV JF_LISTEN=0.0.0.0:8080
EXPOSE 8080

# Liveness only: /healthz does not touch the database. Services of this image
# that serve no HTTP (migrate, worker) turn it off in docker-compose.yml.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/healthz"]

CMD ["jingfang-api"]
