# SPDX-License-Identifier: Apache-2.0
#
# rootkeeper on Debian 12, in three stages:
#
#   build   installs the build dependencies with the project's own
#           scripts/deps.sh, builds with scripts/build.sh (tests off: they
#           need the test-only packages) and installs into /out;
#   demo    the whole project (agent, librootkeeper, rootkeeper-sign) with
#           the runtime libraries and the CA store; its last step signs and
#           verifies this image's own CA bundle with a throwaway key, checks
#           that another key is refused (exit 3), provisions a device store
#           and has the agent apply version 2;
#   signer  (the default) the signing host: rootkeeper-sign alone as the
#           entrypoint, run as the unprivileged user "rootkeeper" (uid
#           10001), with two volumes: /keys (signing keys, public keys,
#           passphrase and PIN files) and /publish (the folder `publish`
#           writes and a web server serves).  A PKCS#11 module is not part
#           of the image: mount the token's module and name it in the key's
#           pkcs11: URI (module-path=).  Its last step runs a smoke test as
#           that user: keygen, create, verify, a refusal, publish, diff and
#           census.
#
#   podman build -t rootkeeper-signer .            (or docker build)
#   podman build --target demo -t rootkeeper-demo .
#   docker run --rm -v "$PWD/keys:/keys" -v "$PWD/publish:/publish" \
#       rootkeeper-signer create --key /keys/ops.key --channel hub \
#       --version 42 --certs /keys/roots.pem -o /keys/42.rkb
#   docker run --rm -v "$PWD/keys:/keys" -v "$PWD/publish:/publish" \
#       rootkeeper-signer publish /keys/42.rkb --to /publish
#
# Serving the publish folder: any static web server that reads the same
# folder, for instance nginx from Debian's image with the folder mounted
# read-only,
#
#   docker run -d -p 8080:80 -v "$PWD/publish:/usr/share/nginx/html:ro" nginx
#
# after which devices poll http://HOST:8080/CHANNEL/latest.rkb.  The signing
# host itself serves nothing: keep it offline and copy the folder out.

FROM debian:bookworm AS build
WORKDIR /src
COPY . .
RUN ./scripts/deps.sh \
    && ./scripts/build.sh build -DRK_TESTS=OFF \
    && cmake --install build --prefix /out/usr/local

FROM debian:bookworm AS demo
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

FROM debian:bookworm AS signer
# rootkeeper-sign needs wolfSSL and jansson; ca-certificates is the store a
# routine update starts from (or mount Mozilla's bundle into /keys).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y \
        --no-install-recommends libwolfssl35 libjansson4 ca-certificates \
    && apt-get clean && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /work \
        --create-home --shell /usr/sbin/nologin rootkeeper \
    && install -d -o rootkeeper -g rootkeeper -m 0700 /keys \
    && install -d -o rootkeeper -g rootkeeper -m 0755 /publish
COPY --from=build /out/usr/local/bin/rootkeeper-sign /usr/local/bin/
USER rootkeeper
WORKDIR /work
RUN set -eux; \
    rootkeeper-sign --version; \
    test "$(id -u)" -eq 10001; \
    d=$(mktemp -d); \
    rootkeeper-sign keygen --alg ecdsa-p256 -o "$d/ops"; \
    test "$(stat -c %a "$d/ops.key")" = 600; \
    rootkeeper-sign create --key "$d/ops.key" --channel smoke --version 1 \
        --certs /etc/ssl/certs/ca-certificates.crt -o "$d/1.rkb"; \
    rootkeeper-sign verify --pub "$d/ops.pub" "$d/1.rkb"; \
    rootkeeper-sign keygen -o "$d/other"; \
    rc=0; rootkeeper-sign verify --pub "$d/other.pub" "$d/1.rkb" || rc=$?; \
    test "$rc" -eq 3; \
    rootkeeper-sign publish "$d/1.rkb" --to /publish; \
    test -s /publish/smoke/latest.rkb; \
    rootkeeper-sign create --key "$d/ops.key" --channel smoke --version 2 \
        --certs /etc/ssl/certs/ca-certificates.crt -o "$d/2.rkb"; \
    rootkeeper-sign diff --json /publish/smoke/latest.rkb "$d/2.rkb" \
        >"$d/diff.json"; \
    grep -q '"version": 2' "$d/diff.json"; \
    rootkeeper-sign sign --key "$d/other.key" \
        --against /publish/smoke/latest.rkb "$d/2.rkb"; \
    rootkeeper-sign verify --pub "$d/ops.pub" --pub "$d/other.pub" \
        --threshold 2 "$d/2.rkb"; \
    rootkeeper-sign publish "$d/2.rkb" --to /publish; \
    printf '%s\n' '127.0.0.1 - - [30/Nov/2026:12:00:00 +0000] "GET /smoke/latest.rkb HTTP/1.1" 200 9 "-" "rootkeeper/1.0 (channel=smoke; active=2; highest=2; id=0123456789abcdef)"' \
        >"$d/access.log"; \
    rootkeeper-sign census --json "$d/access.log" | grep -q '"devices": 1'; \
    rm -rf "$d" /publish/smoke
VOLUME ["/keys", "/publish"]
ENTRYPOINT ["rootkeeper-sign"]
CMD ["--help"]
