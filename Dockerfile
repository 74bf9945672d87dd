# syntax=docker/dockerfile:1
# dfix as a container: a static musl binary on an empty image.
#   docker build -t dfix .
#   docker run --rm -v "$PWD:/src" dfix --diff Dockerfile
FROM alpine:3.20 AS builder
RUN apk add --no-cache build-base pkgconf pcre2-dev jansson-dev jansson-static yaml-dev yaml-static
WORKDIR /src
COPY Makefile ./
COPY include/ include/
COPY src/ src/
COPY transforms/ transforms/
RUN make dfix LDFLAGS=-static \
    && strip dfix

FROM scratch
COPY --from=builder /src/dfix /usr/local/bin/dfix
USER 65532:65532
WORKDIR /src
ENTRYPOINT ["/usr/local/bin/dfix"]
