# Example image (not built here: no Docker engine on the development machine).
FROM python:3.11-slim
WORKDIR /app
# CJK glyphs for Chinese chart labels in /report.
RUN apt-get update && apt-get install -y --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY bot bot
COPY handlers handlers
COPY storage storage
COPY schedules schedules
COPY locales locales
RUN pip install --no-cache-dir .
EXPOSE 8080
CMD ["frontdoor", "run"]
