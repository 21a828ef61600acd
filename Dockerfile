# One image for every snapline process: connectors, dataflows and the bridge.
FROM python:3.11-slim
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir -e .
ENV SNAPLINE_KAFKA__BOOTSTRAP_SERVERS=redpanda:9092
ENTRYPOINT ["snapline"]
CMD ["--help"]
