# The process exporter with this workshop's process groups in the image, for an Educates
# session (as grafana/Dockerfile says why); docker-compose.yml mounts the same file.
ARG PROCESS_EXPORTER_IMAGE
FROM ${PROCESS_EXPORTER_IMAGE}
COPY process-exporter.yml /config/process-exporter.yml
