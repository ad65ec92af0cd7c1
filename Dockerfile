FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY api api
COPY core core
COPY store store
COPY taxonomy taxonomy
COPY ingestion ingestion
COPY matching matching
COPY search_index search_index
COPY bench bench
COPY cli cli
COPY representation representation
COPY widget widget
RUN pip install --no-cache-dir .
ENV TALENTMATCH_DATA_DIR=/data
EXPOSE 8000
CMD ["talentmatch", "serve", "--host", "0.0.0.0", "--port", "8000"]
