# claude-proxy as a container: built and run on the same Debian the project builds on.
# Build stage: the -dev packages and a Release build (tests off).
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake make libcaf-dev libboost1.81-dev rapidjson-dev libssl-dev prometheus-cpp-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY core core
COPY metrics metrics
COPY policy policy
COPY auth auth
COPY io io
COPY actors actors
COPY app app
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPROXY_BUILD_TESTS=OFF -DPROXY_BUILD_TOOLS=OFF \
 && cmake --build build -j"$(nproc)" --target claude-proxy \
 && strip build/claude-proxy

# Runtime stage: only the shared libraries the binary links and the CA store for TLS, and a
# user of its own (Debian already has one named "proxy").
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcaf-core0.17 libprometheus-cpp-core1.0 libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb \
 && useradd --system --uid 10001 --home-dir /home/claude-proxy --create-home claude-proxy
COPY --from=build /src/build/claude-proxy /usr/local/bin/claude-proxy
USER claude-proxy
# Cloudflare Containers reach the app on 8080; listen on every interface inside the container.
# Streams get a keep-alive comment after 15 quiet seconds (Cloudflare cuts idle connections at
# about 100 s), and a SIGTERM (sleep, rollout) lets streams in flight finish for up to 14
# minutes: Cloudflare allows 15 before SIGKILL.
ENV HOST=0.0.0.0 PORT=8080 SSE_KEEPALIVE_SECONDS=15 DRAIN_TIMEOUT_SECONDS=840
EXPOSE 8080
# The binary probes its own /health: no curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/claude-proxy", "--healthcheck"]
# Runs as PID 1 and handles SIGTERM itself (Cloudflare sends it on sleep and rollout).
ENTRYPOINT ["/usr/local/bin/claude-proxy"]
