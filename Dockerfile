# syntax=docker/dockerfile:1
# logward container image: `logward run` following the host's logs, mounted read-only.
#
#   docker build -t logward .
#   docker run -d --name logward --restart unless-stopped \
#     -v /var/log:/var/log/host:ro \
#     -v /srv/logward:/etc/logward:ro \
#     -v logward-data:/app/data -v logward-reports:/app/reports \
#     --env-file /srv/logward/logward.env \
#     logward run --config /etc/logward/logward.yaml
# (/srv/logward holds a copy of docker/logward.yaml and of systemd/logward.env.example.)
#
# README.md ("Deployment") explains each part. `logward run` reads --config, else
# /etc/logward/logward.yaml (the mounted one), else the bundled config/logward.yaml, which
# follows data/sample_logs and writes to ./data and ./reports (WORKDIR /app, the volumes).

# A current Node LTS (Node 20 left maintenance in April 2026); CI tests the code on the
# Node of its machine (20), which the package's engines field still allows.
ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: dev dependencies (typescript) and tsc ---------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the package's prepare script runs tsc, and the sources are not
# copied yet (this layer stays cached until the lock file changes). No dependency
# has an install script.
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src/ src/
RUN npm run build

# --- runtime: production dependencies and the compiled code only ------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# tini as PID 1: it reaps zombies (journalctl children) and forwards SIGTERM to node,
# which then drains and saves as under systemd.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: prepare would run tsc, a dev dependency that is not installed here.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /src/dist/ dist/
COPY config/ config/
COPY data/sample_logs/ data/sample_logs/
COPY docker/healthcheck.mjs docker/healthcheck.mjs
# The image's own user "node" (uid 1000) owns the two volumes; group adm (gid 4 on
# Debian and Ubuntu hosts too) reads the host's /var/log/auth.log and syslog.
RUN mkdir -p data reports \
 && chown node:node data reports \
 && usermod -a -G adm node \
 && node dist/cli.js --version \
 && node dist/cli.js validate --quiet
USER node
# Checkpoints (data/logward-state.json) and reports survive the container.
VOLUME ["/app/data", "/app/reports"]
# Unhealthy when a followed file has complete lines the daemon has not read for 60 s
# (docker/healthcheck.mjs explains why not just "state file recent"). No curl needed.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["node", "docker/healthcheck.mjs", "/app/data", "--max-age", "60"]
# SIGTERM (docker stop) drains, writes the shutdown report and saves the positions
# within run.shutdown_timeout_secs (10 s): use `docker stop -t 30`.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/cli.js"]
CMD ["run"]
