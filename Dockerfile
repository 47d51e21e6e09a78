# Capstan in a container: Debian 12, built by the scripts CI runs (scripts/install-deps.sh and
# the cmake presets), served by an unprivileged user. With the demo of examples/notify.
#   docker build -t capstan .
#   docker run -p 8080:8080 -v "$PWD/capstan.toml:/etc/capstan/capstan.toml:ro" capstan
#   docker compose up --build       (compose.yaml: capstan, redis and the demo)
# tests/deploy/test_container_files.py parses this file and runs its RUN lines' commands on
# the machine the tests run on (no container engine is needed for that).

# ---- build: the capstan program only, and the demo's key pair and database -----------------
FROM debian:12 AS build
# Where the build puts what the runtime stage copies; an ARG so the tests can point it elsewhere.
ARG OUT=/out
WORKDIR /src
COPY . .
RUN scripts/install-deps.sh --build
RUN cmake --preset release -DCAPSTAN_BUILD_TESTS=OFF && cmake --build --preset release --target capstan
# The demo's keys are made here and shipped in the image with the demo's published
# passphrase: fine for a demo, never for a real deployment (mount your own keys there).
RUN install -D -m 0755 build/release/capstan "$OUT/usr/local/bin/capstan" \
 && mkdir -p "$OUT/srv" && cp -R examples/notify "$OUT/srv/demo" \
 && rm -rf "$OUT/srv/demo/config" "$OUT/srv/demo/var" \
 && build/release/capstan keys generate --dir "$OUT/srv/demo/config/jwt" --passphrase capstan-demo \
 && python3 examples/notify/setup.py "$OUT/srv/demo/var/demo.sqlite" \
 && install -D -m 0644 deploy/docker/capstan.toml "$OUT/etc/capstan/capstan.toml"

# ---- runtime: the program, its shared libraries, a user of its own ---------------------------
FROM debian:12-slim AS runtime
COPY scripts/install-deps.sh /tmp/install-deps.sh
RUN /tmp/install-deps.sh --runtime && rm -rf /tmp/install-deps.sh /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin capstan
COPY --from=build /out/ /
USER capstan
# State files of running servers (capstan list / status / stop inside the container).
ENV XDG_RUNTIME_DIR=/tmp
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/capstan"]
CMD ["start", "-c", "/etc/capstan/capstan.toml"]
