FROM --platform=$BUILDPLATFORM golang:1.22 AS build
RUN --mount=type=cache,target=/root/.cache --network=none go build ./...
COPY --from=build --chmod=0755 -- /out/app /usr/local/bin/app
COPY -- --weird-name /dst
RUN -- echo x
RUN --mount="type=secret,id=a b" echo
