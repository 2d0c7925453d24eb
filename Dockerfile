# syntax=docker/dockerfile:1
# The hazwatch image: one image, every command (`docker run hazwatch <command>`, see `hazwatch --help`).
# TypeScript runs through tsx (a runtime dependency), so there is no compile step; the build stage
# exists for better-sqlite3, a native module that needs a C++ tool chain when no prebuilt binary fits.
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

FROM node:${NODE_VERSION}-bookworm-slim
LABEL org.opencontainers.image.title="hazwatch" \
      org.opencontainers.image.description="Hazard-source monitoring: MQTT broker, ingest to InfluxDB, graded alarms, API and console" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production \
    HAZWATCH_DATA_DIR=/data \
    HAZWATCH_DASHBOARDS_OUT=/dashboards
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# Named volumes take the owner of their mount point on first use: let the unprivileged user write.
RUN mkdir -p /data /dashboards && chown node:node /data /dashboards
USER node
VOLUME ["/data"]
EXPOSE 1883 8883 8080
ENTRYPOINT ["node", "--max-semi-space-size=32", "bin/hazwatch.js"]
CMD ["--help"]
