# gpuaas: build stage compiles with meson; the runtime stage holds only the
# runtime libraries and the binaries (gpuaasd, gpuctl, gpuaas-web), and runs
# as a non-root user.
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev meson ninja-build pkg-config \
      libsqlite3-dev libcjson-dev libjwt-dev libcrypt-dev libreadline-dev libsystemd-dev \
      libmicrohttpd-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY meson.build meson_options.txt ./
COPY common common
COPY gpuaasd gpuaasd
COPY gpuctl gpuctl
COPY gpuaas-web gpuaas-web
COPY web web
COPY systemd systemd
COPY docs/man docs/man
COPY docs/openapi.yaml docs/openapi.yaml
RUN meson setup /build -Dbuildtype=release -Dtests=false --prefix=/usr \
 && ninja -C /build \
 && DESTDIR=/out meson install -C /build --no-rebuild

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libsqlite3-0 libcjson1 libjwt0 libcrypt1 libreadline8 libsystemd0 \
      libmicrohttpd12 zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system gpuaas && useradd --system --gid gpuaas --home-dir /var/lib/gpuaas gpuaas \
 && mkdir -p /var/lib/gpuaas /run/gpuaas && chown gpuaas:gpuaas /var/lib/gpuaas /run/gpuaas \
 && chmod 0700 /var/lib/gpuaas && chmod 0755 /run/gpuaas
COPY --from=build /out/usr/sbin/gpuaasd /usr/sbin/gpuaasd
COPY --from=build /out/usr/bin/gpuctl /usr/bin/gpuctl
COPY --from=build /out/usr/sbin/gpuaas-web /usr/sbin/gpuaas-web
COPY --from=build /out/usr/share/gpuaas/web /usr/share/gpuaas/web
EXPOSE 8080
USER gpuaas
ENV GPUAAS_SOCKET=/run/gpuaas/gpuaasd.sock
VOLUME ["/var/lib/gpuaas", "/run/gpuaas"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=5s \
  CMD ["/usr/bin/gpuctl", "ping"]
ENTRYPOINT ["/usr/sbin/gpuaasd", "--socket", "/run/gpuaas/gpuaasd.sock", "--state-dir", "/var/lib/gpuaas"]
