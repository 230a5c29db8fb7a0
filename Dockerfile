# SPDX-License-Identifier: Apache-2.0
#
# rootkeeper on Debian 12. The first stage installs the build dependencies with
# the project's own scripts/deps.sh, builds with scripts/build.sh (tests off:
# they need the test-only packages) and installs into /out. The final stage
# holds only the runtime libraries, the CA store and the installed programs;
# its last step proves the image by signing and verifying this image's own CA
# bundle with a throwaway key, checks that another key is refused (exit 3),
# then provisions a device store with it and has the agent apply version 2.
#
#   docker build -t rootkeeper .
#   docker run --rm rootkeeper rootkeeper-sign --help

FROM debian:bookworm AS build
WORKDIR /src
COPY . .
RUN ./scripts/deps.sh \
    && ./scripts/build.sh build -DRK_TESTS=OFF \
    && cmake --install build --prefix /out/usr/local

FROM debian:bookworm
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y \
        --no-install-recommends libwolfssl35 libjansson4 libcurl4 \
        libsqlite3-0 libinih1 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /
RUN set -eux; \
    ldconfig; \
    rootkeeper-sign --version; \
    rootkeeper --version; \
    d=$(mktemp -d); \
    rootkeeper-sign keygen -o "$d/smoke"; \
    rootkeeper-sign create --key "$d/smoke.key" --channel smoke --version 1 \
        --certs /etc/ssl/certs/ca-certificates.crt -o "$d/v1.rkb"; \
    rootkeeper-sign verify --pub "$d/smoke.pub" "$d/v1.rkb"; \
    rootkeeper-sign keygen -o "$d/other"; \
    rc=0; rootkeeper-sign verify --pub "$d/other.pub" "$d/v1.rkb" || rc=$?; \
    test "$rc" -eq 3; \
    mkdir "$d/pub" "$d/device"; \
    rootkeeper-sign publish "$d/v1.rkb" --to "$d/pub"; \
    rootkeeper --db "$d/device/store.db" init --pin "$d/smoke.pub" \
        --bundle "$d/pub/smoke/1.rkb"; \
    rootkeeper-sign create --key "$d/smoke.key" --channel smoke --version 2 \
        --certs /etc/ssl/certs/ca-certificates.crt -o "$d/v2.rkb"; \
    rootkeeper-sign publish "$d/v2.rkb" --to "$d/pub"; \
    rootkeeper --db "$d/device/store.db" check \
        --url "file://$d/pub/smoke/latest.rkb"; \
    rootkeeper --db "$d/device/store.db" list; \
    rc=0; rootkeeper --db "$d/device/store.db" status || rc=$?; \
    test "$rc" -le 1; \
    test -s "$d/device/trust.pem"; \
    test -e /usr/local/lib/librootkeeper.so.0; \
    rm -rf "$d"
CMD ["rootkeeper-sign", "--help"]
