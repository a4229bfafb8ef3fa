# The hello-world variants: one image, the variant chosen by the command.
ARG NODE_IMAGE
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The CA of a proxy that re-signs TLS, if there is one (docker/ca/README.md); the build
# stage only, so the final image does not carry it.
COPY docker/ca/ /tmp/ca/
RUN if [ -f /tmp/ca/extra-ca.pem ]; then export NODE_EXTRA_CA_CERTS=/tmp/ca/extra-ca.pem; fi \
 && npm ci --no-audit --no-fund
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
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8000/metrics').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/lib/start-server.js"]
CMD ["hello-world-v1", "--host", "0.0.0.0", "--port", "8000"]
