ARG BASE
FROM ${BASE}
COPY process-exporter /bin/process-exporter
LABEL org.lab-node-metrics.stand-in="true"
ENTRYPOINT ["/bin/process-exporter"]
