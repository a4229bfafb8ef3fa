# The workstation of an Educates session: Educates' base environment image (its terminals,
# editor, examiner, Docker client, and bombardier 2.0.2, a release binary it checks by
# checksum), plus what the pages run besides: the pinned Node, diff, and the repository's
# dependencies in the home directory, where the workshop files (the files image) land.
# Built from the repository's root by .github/workflows/educates.yaml; it cannot be built
# on this project's CI machine (no registry to pull the base from).
ARG EDUCATES_BASE_IMAGE
ARG NODE_IMAGE

FROM ${NODE_IMAGE} AS node

# The dependencies, dev ones included (the pages run the launcher with tsx). No install
# scripts: node-pty (the portal's terminals) is never loaded here, so it stays unbuilt;
# esbuild's binary for this platform comes as a package of its own.
FROM ${NODE_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
# The CA of a proxy that re-signs TLS, if there is one (docker/ca/README.md): this stage only.
COPY docker/ca/ /tmp/ca/
RUN if [ -f /tmp/ca/extra-ca.pem ]; then export NODE_EXTRA_CA_CERTS=/tmp/ca/extra-ca.pem; fi \
 && npm ci --ignore-scripts --no-audit --no-fund

FROM ${EDUCATES_BASE_IMAGE}
USER root
RUN dnf install -y --setopt=tsflags=nodocs diffutils && dnf clean all
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
COPY --from=deps --chown=1001:0 /src/node_modules /home/eduk8s/node_modules
USER 1001
