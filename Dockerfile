# CodeForge Suite API and worker image.
#
# TypeScript runs as-is under Node 24 (type stripping): there is no build step, so the image ships src/.
# The full `npm ci` is used (dev dependencies included): the `node` devDependency pins Node 24 for npm scripts,
# which keeps `npm run cli -- …` inside the container on the same runtime as the tests.
#
#   docker build -t codeforge-suite .
#   docker run -p 8000:8000 -v codeforge-data:/data codeforge-suite            # API, embedded PGlite in /data
#   docker run … codeforge-suite node src/worker.ts                             # worker (needs DATABASE_URL)
#   docker run … codeforge-suite node src/cli.ts audit-verify                   # one-off CLI command

FROM node:24-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm cache clean --force

FROM node:24-slim
WORKDIR /app
ENV DATA_DIR=/data

# Application files stay owned by root: the process (user node) can read them but not change them.
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY src/ ./src/
COPY migrations/ ./migrations/
COPY seed/ ./seed/
COPY openapi/ ./openapi/

# The embedded database (DATA_DIR/pglite) and stored documents live here; mount a volume to keep them.
RUN mkdir -p /data && chown node:node /data

USER node
EXPOSE 8000

# Liveness only (the process answers); /health/ready also checks PostgreSQL and Redis.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.LOCAL_PORT || 8000) + '/health/live', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["node", "src/main.ts"]
