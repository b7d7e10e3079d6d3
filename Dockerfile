# Build a static binary (pure Go: the SQLite driver needs no cgo).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/liaison ./cmd/liaison \
 && mkdir -p /out/data

# A small final image with CA certificates, running as a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/liaison /usr/local/bin/liaison
COPY --from=build --chown=nonroot:nonroot /out/data /data
WORKDIR /data
USER nonroot:nonroot
EXPOSE 8080
ENV LIAISON_HTTP_ADDR=0.0.0.0:8080
# The image has no shell and no curl: the binary asks its own /readyz
# (on 127.0.0.1, LIAISON_HTTP_ADDR's port) and exits 1 when not ready.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["/usr/local/bin/liaison", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/liaison"]
CMD ["run", "--config", "/etc/liaison/liaison.yaml"]
