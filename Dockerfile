# Multi-stage build of the served cvo binary with the admin page embedded.

FROM node:20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=frontend /src/frontend/dist ./frontend/dist
# Only the served binary: cvodev (demo, simulator, benchmarks) never ships.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/cvo ./app

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cvo /cvo
ENV PORT=8080
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/cvo"]
CMD ["serve"]
