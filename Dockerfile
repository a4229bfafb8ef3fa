# check=skip=InvalidDefaultArgInFrom
# (BuildKit's check above is off: the base images have no default here; .env pins them.)
# The hello-world variants: one image, lab-node-metrics-app:local, the variant chosen by the
# command; built once, by the app-image service of docker-compose.yml.
ARG NODE_IMAGE

# The production dependencies. --omit=optional leaves out node-pty (the portal's terminal,
# compiled from source); no dependency of the apps has an install script. The CA of a
# proxy that re-signs TLS, if there is one (docker/ca/README.md), stays in the build
# stages: the final image does not carry it.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY docker/ca/ /tmp/ca/
RUN if [ -f /tmp/ca/extra-ca.pem ]; then export NODE_EXTRA_CA_CERTS=/tmp/ca/extra-ca.pem; fi \
 && npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

# The compiler and Node's types alone, at the lockfile's versions, while the stage above
# installs: the other 200 packages of the dev tree (eslint, playwright, OpenTelemetry...)
# are the tests'. The whole dev tree and an `npm prune` took 84 s of a 113 s build (prune
# reinstalled the node-pty that --omit=optional had left out).
FROM ${NODE_IMAGE} AS tsc
COPY package-lock.json /tmp/
COPY docker/ca/ /tmp/ca/
RUN cd /tmp \
 && if [ -f /tmp/ca/extra-ca.pem ]; then export NODE_EXTRA_CA_CERTS=/tmp/ca/extra-ca.pem; fi \
 && npm install --prefix /tsc --no-save --no-package-lock --ignore-scripts --no-audit --no-fund \
      $(node -p "const l = require('/tmp/package-lock.json').packages; \
        ['typescript', '@types/node', 'undici-types'].map((n) => n + '@' + l['node_modules/' + n].version).join(' ')")

# tsc over the production tree: fastify, pino and prom-client carry their own types.
FROM prod-deps AS build
COPY --from=tsc /tsc /tsc
COPY tsconfig.json tsconfig.build.json ./
COPY lib lib
COPY apps apps
RUN /tsc/node_modules/.bin/tsc -p tsconfig.build.json --typeRoots /tsc/node_modules/@types

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
USER node
EXPOSE 8000
# The port accepts connections; no node process, no request, no scrape (docker-compose.yml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8000"]
ENTRYPOINT ["node", "dist/lib/start-server.js"]
CMD ["hello-world-v1", "--host", "0.0.0.0", "--port", "8000"]
