# check=skip=InvalidDefaultArgInFrom
# (BuildKit's check above is off: the base images have no default here; .env pins them.)
# The hello-world variants: one image, the variant chosen by the command.
ARG NODE_IMAGE
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The CA of a proxy that re-signs TLS, if there is one (docker/ca/README.md); the build
# stage only, so the final image does not carry it. --omit=optional leaves out node-pty
# (the workshop portal's terminal, which the apps never load): it would be compiled from
# source here; the other optional packages are platform builds of dev tools (esbuild).
COPY docker/ca/ /tmp/ca/
RUN if [ -f /tmp/ca/extra-ca.pem ]; then export NODE_EXTRA_CA_CERTS=/tmp/ca/extra-ca.pem; fi \
 && npm ci --omit=optional --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY lib lib
COPY apps apps
RUN npm run build && npm prune --omit=dev

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
USER node
EXPOSE 8000
# The port accepts connections; no node process, no request, no scrape (docker-compose.yml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8000"]
ENTRYPOINT ["node", "dist/lib/start-server.js"]
CMD ["hello-world-v1", "--host", "0.0.0.0", "--port", "8000"]
